"""CERTDESK_METRICS=1: GET /metrics in Prometheus's format (bot/metrics.py).

Through the real app over HTTP (questions on two surfaces, then a scrape), off by default, the
setting's validation, and the real `certdesk serve --http` with two gunicorn workers, where a
scrape answered by either worker counts the questions both answered.
"""

from __future__ import annotations

import glob
import json
import os
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from slackstub import BOT_USER_ID, CHANNEL_ID, TEAM_ID, USER_ID, FakeSlack, message_event, post_signed
from slackstub import slash_command_body
from slackstub.fixtures import fake_slack  # noqa: F401  (pytest fixture)
from slack_fixtures import *  # noqa: F401,F403  (pytest fixtures)
from slack_fixtures import SECRET, Served, internal_channel, own_user

from bot.cli import main
from bot.metrics import Metrics, index_age, multiprocess_directory
from bot.settings import Settings, SettingsError
from serve_process import serve_env, serving

QUESTION = "TRUCS certificate number for object storage"
NOTHING = "zebra quartz marmalade"  # answered by no document


def scrape(get) -> tuple[int, dict[tuple[str, frozenset], float], str]:
    """GET /metrics: its status, {(sample name, labels): value}, and the raw text."""
    status, body = get("/metrics")
    text = body.decode("utf-8")
    if status != 200:
        return status, {}, text
    samples = {(s.name, frozenset(s.labels.items())): s.value
               for family in text_string_to_metric_families(text) for s in family.samples}
    return status, samples, text


def value(samples: dict, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


# --- through the real app --------------------------------------------------------------------


def test_metrics_count_questions_by_surface_with_latency_and_index_age(serve_app, fake_slack: FakeSlack) -> None:
    served: Served = serve_app(metrics=True)
    assert "TRUCS" in json.dumps(served.command(QUESTION)["blocks"])
    served.command(NOTHING)
    served.command("help")  # not a question: not counted
    assert served.event(message_event(f"<@{BOT_USER_ID}> {QUESTION}", event_type="app_mention")) == 200
    fake_slack.wait_for("chat.postMessage")  # counted before it is posted

    status, samples, text = scrape(served.get)
    assert status == 200
    questions = {dict(labels)["surface"] + "/" + dict(labels)["outcome"]: v
                 for (name, labels), v in samples.items() if name == "certdesk_questions_total"}
    assert questions == {"slash/answered": 1, "slash/unanswered": 1, "mention/answered": 1}
    assert value(samples, "certdesk_question_latency_seconds_count", surface="slash") == 2
    assert value(samples, "certdesk_question_latency_seconds_count", surface="mention") == 1
    assert value(samples, "certdesk_question_latency_seconds_bucket", surface="slash", le="+Inf") == 2
    assert value(samples, "certdesk_question_latency_seconds_sum", surface="slash") >= 0
    assert value(samples, "certdesk_answered_ratio") == pytest.approx(2 / 3)
    age = value(samples, "certdesk_index_age_seconds")
    assert age is not None and 0 <= age < 24 * 3600  # built by this test session
    # Surface and outcome only: nobody's id, workspace or question.
    assert USER_ID not in text and TEAM_ID not in text and QUESTION not in text and NOTHING not in text
    assert served.get("/healthz") == (200, b"ok\n")


def test_metrics_are_off_unless_enabled(serve_app, fake_slack: FakeSlack) -> None:
    assert Settings.from_env({}).metrics is False
    served: Served = serve_app()
    assert "TRUCS" in json.dumps(served.command(QUESTION)["blocks"])
    status, _, _ = scrape(served.get)
    assert status == 404
    assert served.get("/healthz") == (200, b"ok\n")


def test_index_age_comes_from_the_current_builds_manifest(slack_paths, tmp_path: Path) -> None:
    from index.store import current_path, read_manifest
    from datetime import datetime

    built = datetime.strptime(read_manifest(current_path(slack_paths.index_dir))["built_at"],
                              "%Y-%m-%dT%H:%M:%S%z").timestamp()
    assert index_age(slack_paths.index_dir, now=built + 90) == 90
    assert index_age(tmp_path / "no-index") is None
    metrics = Metrics(tmp_path / "no-index")
    assert b"certdesk_index_age_seconds" not in metrics.exposition()[0]  # no index: no sample
    assert b"certdesk_answered_ratio" not in metrics.exposition()[0]     # no question yet


# --- the setting ---------------------------------------------------------------------------


@pytest.mark.parametrize("text, on", [("", False), ("1", True), ("true", True), ("YES", True), (" yes ", True),
                                      ("0", False), ("false", False), ("no", False)])
def test_certdesk_metrics_setting(text: str, on: bool) -> None:
    assert Settings.from_env({"CERTDESK_METRICS": text}).metrics is on


@pytest.mark.parametrize("text", ["maybe", "2", "enabled"])
def test_an_unknown_certdesk_metrics_is_one_usage_line(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str], text: str) -> None:
    with pytest.raises(SettingsError, match=f"CERTDESK_METRICS must be .* not '{text}'"):
        Settings.from_env({"CERTDESK_METRICS": text})
    monkeypatch.setenv("CERTDESK_METRICS", text)
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "CERTDESK_METRICS" in err


def test_the_multiprocess_directory_is_private_and_removed_only_by_its_maker() -> None:
    parent = os.getpid()
    before = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    try:
        with multiprocess_directory() as directory:
            assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(directory)
            assert directory.is_dir() and directory.stat().st_mode & 0o777 == 0o700
            metrics = Metrics(directory, multiprocess_dir=directory)
            metrics.count("dm", "answered", 0.01)
            assert list(directory.glob("counter_*.db")) and list(directory.glob("histogram_*.db"))
            child = os.fork()
            if child == 0:
                raise SystemExit(0)  # as a gunicorn worker ends: through this `with`
            _, status = os.waitpid(child, 0)
            assert os.waitstatus_to_exitcode(status) == 0
            assert directory.is_dir()  # the worker left it to its maker
    except SystemExit:
        if os.getpid() != parent:
            os._exit(0)
        raise
    except BaseException:
        if os.getpid() != parent:
            os._exit(1)
        raise
    assert not directory.exists()
    assert os.environ.get("PROMETHEUS_MULTIPROC_DIR") == before


# --- the real server, two workers ------------------------------------------------------------


def _slash_commands_at_once(url: str, count: int, first: int) -> None:
    """`count` slash commands sent together, so that both workers take some."""
    start, failures = threading.Barrier(count), []

    def ask(n: int) -> None:
        start.wait(timeout=10)
        status, _, body = post_signed(url, *slash_command_body("/cert", f"{QUESTION} ({n})"), SECRET)
        if status != 200 or "02016" not in body.decode("utf-8"):
            failures.append((status, body[:200]))

    threads = [threading.Thread(target=ask, args=(first + n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=15)
    assert not failures, failures


def test_one_scrape_counts_the_questions_of_both_gunicorn_workers(fake_slack: FakeSlack, slack_paths,
                                                                  tmp_path: Path) -> None:
    fake_slack.users[USER_ID] = own_user(USER_ID)
    fake_slack.channels[CHANNEL_ID] = internal_channel(CHANNEL_ID)
    temp = tmp_path / "tmp"   # where `certdesk serve` makes its metrics directory
    temp.mkdir()
    env = serve_env(tmp_path, slack_paths, fake_slack, PROMETHEUS_MULTIPROC_DIR=None,
                    CERTDESK_DB=str(tmp_path / "state" / "q.sqlite3"), CERTDESK_RATE_LIMIT="1000",
                    CERTDESK_METRICS="1", WEB_CONCURRENCY="2", TMPDIR=str(temp))
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    with serving(env, tmp_path / "serve.log") as served:
        def get(path: str) -> tuple[int, bytes]:
            try:
                with opener.open(served.url + path, timeout=5) as response:
                    return response.status, response.read()
            except urllib.error.HTTPError as error:
                with error:
                    return error.code, error.read()

        fake_slack.wait_for("auth.test", count=3, timeout=15)  # the parent, then both workers
        (directory,) = glob.glob(str(temp / "certdesk-metrics-*"))

        # Bursts of questions until each worker has answered some (its own counter file).
        asked = 0
        while len(glob.glob(os.path.join(directory, "counter_*.db"))) < 2:
            assert asked < 200, "the kernel gave every question to one worker"
            _slash_commands_at_once(served.url + "/slack/events", 8, asked)
            asked += 8
        for _ in range(6):  # each scrape is answered by either worker: every one sees all
            status, samples, _ = scrape(get)
            assert status == 200
            assert value(samples, "certdesk_questions_total", surface="slash", outcome="answered") == asked
            assert value(samples, "certdesk_question_latency_seconds_count", surface="slash") == asked
            assert value(samples, "certdesk_answered_ratio") == 1
            assert value(samples, "certdesk_index_age_seconds") >= 0
    output = served.log()
    assert served.process.returncode == 0, output
    assert output.count("Booting worker") == 2
    assert not Path(directory).exists(), "the metrics directory outlived certdesk serve"
    assert list(temp.iterdir()) == []
