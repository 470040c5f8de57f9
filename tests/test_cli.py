"""The certdesk command line: the contract a user and the README rely on."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parent.parent


def run(args: list[str], stdin: str = "") -> tuple[int, str]:
    out = io.StringIO()
    code = main(args, out=out, stdin=io.StringIO(stdin))
    return code, out.getvalue()


def test_ask_prints_a_quoted_answer_with_the_number(env_paths):
    code, out = run(["ask", "TRUCS certificate number for object storage"])
    assert code == 0
    assert "Cloud Object Storage Services No: 02016" in out
    assert '"' in out and "last updated 2018-08-29" in out


def test_ask_without_quotes_joins_the_words(env_paths):
    code, out = run(["ask", "TRUCS", "number", "for", "COS"])
    assert code == 0 and "02016" in out


def test_ask_json_prints_one_object(env_paths):
    code, out = run(["ask", "--json", "Are we PCI DSS level 1?"])
    assert code == 0
    (line,) = out.splitlines()
    data = json.loads(line)
    assert data["answered"] and "Grade 1" in data["results"][0]["passage"]


def test_ask_json_stdin_answers_each_line_in_order(env_paths):
    questions = ["TRUCS cert no for block storage", "", "Do we have FedRAMP High authorization?",
                 "TISAX assessment level"]
    code, out = run(["ask", "--json", "-"], stdin="\n".join(questions) + "\n")
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [d["question"] for d in lines] == questions
    assert [d["answered"] for d in lines] == [True, False, False, True]
    assert lines[0]["results"][0]["certificate_numbers"][0]["number"] == "05014"


def test_unanswered_says_so_plainly(env_paths):
    code, out = run(["ask", "where should we order lunch"])
    assert code == 0 and "No answer" in out and "Try naming" in out


@pytest.mark.parametrize("args", [["ask"], ["ask", "   "], ["ask", ""]])
def test_blank_question_is_a_usage_error(env_paths, args, capsys):
    code, out = run(args)
    assert code == 2 and out == ""
    err = capsys.readouterr().err
    assert "ask needs a question" in err and "certdesk ask" in err


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "ask" in capsys.readouterr().err


def test_eval_on_dev_questions_is_perfect(env_paths):
    code, out = run(["eval", str(ROOT / "data" / "eval" / "dev_questions.yaml")])
    assert "MISS" not in out
    for measure in ("top-1: 100.0%", "facts in passage: 100.0%", "certificate numbers exact: 100.0%",
                    "out-of-scope abstained: 100.0%", "passages not verbatim: 0",
                    "numbers not present in source: 0"):
        assert measure in out
    assert code == 0


def test_eval_on_extended_questions_is_perfect(env_paths):
    code, out = run(["eval", str(ROOT / "data" / "eval" / "extended_questions.yaml")])
    assert code == 0, out


def test_eval_reports_misses_and_fails(env_paths, tmp_path):
    f = tmp_path / "q.yaml"
    f.write_text('- q: "TISAX level"\n  expect: ["hipaa"]\n- q: "lunch menu"\n  answered: false\n')
    code, out = run(["eval", str(f)])
    assert code == 1
    assert "MISS top-1: 'TISAX level'" in out and "top-1: 0.0% (0/1)" in out
    assert "out-of-scope abstained: 100.0% (1/1)" in out


def test_eval_missing_file_is_a_usage_error(env_paths, tmp_path):
    assert run(["eval", str(tmp_path / "nope.yaml")])[0] == 2


def test_index_build_and_status(env_corpus):
    assert run(["index", "status"])[0] == 1
    code, out = run(["index", "build"])
    assert code == 0 and "built index of 21 sections from 3 documents" in out
    code, out = run(["index", "status"])
    assert code == 0 and "up to date" in out


def test_bad_data_stops_build_with_file_and_line_and_no_traceback(env_corpus, capsys, caplog):
    assert run(["index", "build"])[0] == 0
    (env_corpus.data_dir / "products.yaml").write_text("products:\n  - name: COS\n    nmes: [x]\n")
    code, _ = run(["index", "build"])
    err = capsys.readouterr().err
    assert code == 1
    assert "products.yaml:3" in err and "'nmes'" in err and "Traceback" not in err
    assert "previous index" in err
    # Asking still answers, from the previous index, and says why it was not rebuilt.
    code, out = run(["ask", "TISAX"])
    assert code == 0 and "TISAX" in out
    assert "products.yaml:3" in caplog.text and "previous index" in caplog.text


def test_index_status_says_when_broken_data_blocks_the_rebuild(env_corpus):
    assert run(["index", "build"])[0] == 0
    (env_corpus.data_dir / "products.yaml").write_text("products:\n  - name: COS\n    nmes: [x]\n")
    code, out = run(["index", "status"])
    assert code == 1
    assert "cannot be rebuilt" in out and "products.yaml:3" in out
    assert "rebuilt on the next ask" not in out


def test_default_eval_says_which_folders_it_did_not_run(env_corpus, tmp_path):
    extra = env_corpus.data_dir / "eval" / "held"
    extra.mkdir(parents=True, exist_ok=True)
    (extra / "x.yaml").write_text('- q: "TISAX level"\n  expect: ["tisax"]\n')
    code, out = run(["eval"])
    assert "not run (name their files to run them): " in out and "held/" in out


def test_console_script_runs_as_a_module(env_paths):
    env = {**os.environ, "CERTDESK_INDEX_DIR": str(env_paths.index_dir)}
    proc = subprocess.run([sys.executable, "-m", "bot", "ask", "--json", "-"], input="HIPAA?\n",
                          capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["results"][0]["certification"] == "HIPAA"


def test_ask_on_a_fresh_index_does_not_load_the_build_path(env_paths):
    """A cold `certdesk ask` pays for the search, not for importing readers, ftfy or YAML."""
    env = {**os.environ, "CERTDESK_INDEX_DIR": str(env_paths.index_dir)}
    script = ("import sys, io\nfrom bot.cli import main\nout = io.StringIO()\n"
              "assert main(['ask', '--json', 'TRUCS number for object storage'], out=out) == 0\n"
              "print(out.getvalue().strip())\nprint(' '.join(sorted(sys.modules)))\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                          timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    answer, modules = proc.stdout.splitlines()
    assert "02016" in answer
    loaded = set(modules.split())
    assert "index.search" in loaded
    assert not loaded & {"index.build", "index.ingest", "index.catalog", "index.readers", "ftfy", "yaml"}
    # Nor what only other commands need: follow-ups (--after) and the catalogue (certdesk list).
    assert not loaded & {"index.followup", "index.listing"}


def test_an_unexpected_error_is_one_line_not_a_traceback(env_paths, monkeypatch, capsys):
    from index.search import Engine

    def broken(self, question, audience="internal"):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Engine, "ask", broken)
    assert run(["ask", "TISAX"])[0] == 1
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: disk on fire" in err and "Traceback" not in err


def test_ask_help_describes_freshness_as_a_content_hash(capsys):
    assert main(["ask", "--help"]) == 0
    shown = " ".join(capsys.readouterr().out.split())
    assert "content hash" in shown and "older than" not in shown
