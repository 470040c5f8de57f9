"""`certdesk bench`, run at a tiny size so it cannot rot. No timing thresholds: only that every
figure is there and sane (counts add up, latencies positive and ordered, sizes non-zero)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bench import corpus as gen
from bench import peers
from bench.run import percentile
from bot.cli import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def repo_env(monkeypatch, tmp_path):
    """The checkout's seeds and data; any index a command would default to goes to tmp."""
    monkeypatch.setenv("CERTDESK_SEEDS_DIR", str(ROOT / "seeds"))
    monkeypatch.setenv("CERTDESK_DATA_DIR", str(ROOT / "data"))
    monkeypatch.setenv("CERTDESK_INDEX_DIR", str(tmp_path / "index"))


def _latencies_sane(figures: dict) -> None:
    assert 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["p99_ms"] <= figures["max_ms"]
    assert figures["samples"] > 0


def test_bench_json_at_a_tiny_size(repo_env, monkeypatch, tmp_path, capsys):
    # tantivy made "missing" whatever is installed, so a missing peer is always exercised.
    monkeypatch.setitem(peers.PEERS, "tantivy", peers.PeerInfo("tantivy", "tantivy", "no_such_module_tantivy",
                                                               "tantivy"))
    out = io.StringIO()
    code = main(["bench", "--passages", "200", "--questions", "20", "--warmup", "3", "--cold-runs", "1",
                 "--peers", "whoosh,bm25,tantivy", "--workdir", str(tmp_path / "bench"), "--json"], out=out)
    assert code == 0, capsys.readouterr().err
    report = json.loads(out.getvalue())

    seeds, synthetic = report["corpora"]
    assert seeds["kind"] == "seeds" and synthetic["kind"] == "synthetic"
    dev_questions = (ROOT / "data" / "eval" / "dev_questions.yaml").read_text(encoding="utf-8").count("\n- q:")
    assert seeds["questions"] == dev_questions and seeds["sections_indexed"] > 0
    s = seeds["systems"]["certdesk"]
    assert s["measures"] == "ask + Slack blocks" and s["fresh"] is True
    _latencies_sane(s)
    assert s["samples"] == dev_questions and 0 < s["answered"] <= dev_questions
    assert s["index_bytes"] > 0 and s["build_seconds"] > 0 and s["peak_rss_bytes"] > 0
    assert s["cold_ms"] > 0 and len(s["cold_runs_ms"]) == 1

    assert synthetic["passages"] == 200 and synthetic["questions"] == 20
    assert sum(synthetic["question_kinds"].values()) == 20
    # What certdesk indexed is what the generator wrote, give or take a merged near-duplicate.
    assert 0.9 * 200 <= synthetic["sections_indexed"] <= 200
    c = synthetic["systems"]["certdesk"]
    _latencies_sane(c)
    assert c["samples"] == 20 and 0 < c["answered"] <= 20 and c["fresh"] is True
    assert c["index_bytes"] > 0 and c["peak_rss_bytes"] > 0 and c["cold_ms"] > 0
    # The slowest questions, slowest first, name where the tail comes from.
    assert len(c["slowest"]) == 5 and c["slowest"][0]["ms"] == pytest.approx(c["max_ms"])
    assert [x["ms"] for x in c["slowest"]] == sorted((x["ms"] for x in c["slowest"]), reverse=True)

    w = synthetic["systems"]["whoosh"]
    _latencies_sane(w)
    assert w["index_bytes"] > 0 and w["peak_rss_bytes"] > 0 and w["with_hits"] > 0
    assert w["p50_ratio"] == pytest.approx(w["p50_ms"] / c["p50_ms"])
    assert w["p99_ratio"] == pytest.approx(w["p99_ms"] / c["p99_ms"])

    b = synthetic["systems"]["bm25"]
    if peers.missing("bm25"):
        assert b == {"available": False, "reason": peers.missing("bm25")}
    else:
        _latencies_sane(b)
        assert b["index_bytes"] is None and b["p99_ratio"] > 0

    t = synthetic["systems"]["tantivy"]
    assert t["available"] is False and "pip install tantivy" in t["reason"]
    assert report["growth"] == []     # one generated size: nothing to compare


def test_bench_table_names_every_system_and_the_missing_peer(repo_env, monkeypatch, tmp_path):
    monkeypatch.setitem(peers.PEERS, "bm25", peers.PeerInfo("bm25", "rank_bm25", "no_such_module_rank_bm25",
                                                            "rank_bm25"))
    out = io.StringIO()
    code = main(["bench", "--no-seeds", "--passages", "60,120", "--questions", "8", "--warmup", "0",
                 "--cold-runs", "0", "--peers", "whoosh,bm25"], out=out)
    assert code == 0
    table = out.getvalue()
    for text in ("p50 ms", "p99 ms", "peak MB", "index MB", "certdesk", "whoosh", "missing",
                 "bm25: not installed: pip install rank_bm25", "growth certdesk 60→120"):
        assert text in table, text
    assert "seeds" not in table.split("\n\n")[0]


@pytest.mark.parametrize("args", [["--passages", "many"], ["--passages", "0"], ["--peers", "lucene"],
                                  ["--questions", "0"]])
def test_bench_usage_errors(args, capsys):
    assert main(["bench", *args]) == 2
    assert "certdesk bench:" in capsys.readouterr().err


def test_corpus_is_deterministic_and_seeds_style(tmp_path):
    a = gen.generate(tmp_path / "a", 80, seed=7)
    b = gen.generate(tmp_path / "b", 80, seed=7)
    c = gen.generate(tmp_path / "c", 80, seed=8)
    files = lambda d: {p.name: p.read_text(encoding="utf-8") for p in sorted(d.iterdir())}   # noqa: E731
    assert files(tmp_path / "a") == files(tmp_path / "b") != files(tmp_path / "c")
    assert len(a.passages) == 80 and a.documents == len(files(tmp_path / "a"))
    text = "\n".join(files(tmp_path / "a").values())
    assert "Last updated : " in text and "\n### " in text and " No: " in text
    assert [q.text for q in gen.questions(a, 30)] == [q.text for q in gen.questions(b, 30)]
    # The very common word is in most passages (about 70 %), as common words are in real text.
    assert sum(gen.COMMON_WORD in p.text.lower() for p in a.passages) >= 0.5 * len(a.passages)


def test_percentile_interpolates_between_ranks():
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([5.0], 99) == 5.0
    assert percentile(list(range(101)), 99) == 99
