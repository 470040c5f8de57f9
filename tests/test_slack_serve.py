"""`certdesk serve` and what it is made of: settings, de-dup record, Socket Mode, gunicorn.

The gunicorn test starts the real command as a subprocess on a free 127.0.0.1 port and talks
to it over HTTP, its Web API pointed at FakeSlack; everything else runs in-process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import FrozenInstanceError, replace
from pathlib import Path

import pytest
from slackstub import (
    BOT_USER_ID,
    CHANNEL_ID,
    FakeSlack,
    FakeSocketMode,
    event_body,
    event_payload,
    message_event,
    post_signed,
    slash_command_body,
    slash_command_payload,
)
from slackstub.fixtures import PROXY_VARIABLES, fake_slack, fake_socket_mode  # noqa: F401  (fixtures)
from slack_fixtures import *  # noqa: F401,F403  (pytest fixtures)
from slack_fixtures import APP_TOKEN, BOT_TOKEN, SECRET, SECRETS, STATE_VARIABLES, USER_SALT

from bot.cli import main
from bot.dedup import MemorySeenRecord
from bot import server
from bot.server import WORKERS, StartupError, socket_mode_handler
from bot.settings import Settings, SettingsError
from serve_process import certdesk_command, serve_env, serving

QUESTION = "TRUCS certificate number for object storage"
NUMBER = "02016"


# --- settings -----------------------------------------------------------------------------


def test_settings_read_once_from_the_environment_and_hide_secrets() -> None:
    env = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_APP_TOKEN": APP_TOKEN,
           "SLACK_API_URL": "https://slack-gov.com/api", "CERTDESK_COMMAND": "/compliance", "PORT": "8080",
           "CERTDESK_INDEX_DIR": "/tmp/somewhere"}
    settings = Settings.from_env(env)
    assert (settings.bot_token, settings.signing_secret, settings.app_token) == (BOT_TOKEN, SECRET, APP_TOKEN)
    assert settings.api_url == "https://slack-gov.com/api/"
    assert (settings.command, settings.port, settings.socket_mode) == ("/compliance", 8080, True)
    assert settings.paths.index_dir == Path("/tmp/somewhere")
    for shown in (repr(settings), str(settings)):
        assert not any(secret in shown for secret in SECRETS)
        assert "bot_token=set" in shown
    with pytest.raises(FrozenInstanceError):
        settings.port = 1  # type: ignore[misc]


def test_safety_settings_from_the_environment_hide_the_salt_and_redis_password() -> None:
    redis_url = "redis://:redis-pass-7e6d5c@10.0.0.5:6379/0"
    env = {"CERTDESK_ALLOWED_TEAMS": "T0TEAM, T0OTHER", "CERTDESK_RATE_LIMIT": "5",
           "CERTDESK_DB": "/var/lib/certdesk/log.sqlite3", "CERTDESK_USER_SALT": USER_SALT,
           "REDIS_URL": redis_url, "CERTDESK_HOME_TEAM": "T0HOME"}
    settings = Settings.from_env(env)
    assert settings.allowed_teams == frozenset({"T0TEAM", "T0OTHER"})
    assert (settings.rate_limit, settings.home_team) == (5, "T0HOME")
    assert (settings.user_salt, settings.redis_url) == (USER_SALT, redis_url)
    assert settings.db_path == Path("/var/lib/certdesk/log.sqlite3")
    # The de-dup record and the generated salt live next to the question log.
    assert settings.dedup_path == Path("/var/lib/certdesk/seen.sqlite3")
    assert settings.salt_path == Path("/var/lib/certdesk/log.sqlite3.salt")
    shown = repr(settings)
    assert USER_SALT not in shown and "redis-pass" not in shown and "10.0.0.5" not in shown
    assert "user_salt=set" in shown and "redis_url=set" in shown


def test_safety_settings_defaults() -> None:
    from index.config import CHECKOUT

    settings = Settings.from_env({})
    assert (settings.allowed_teams, settings.home_team, settings.rate_limit) == (frozenset(), None, 20)
    assert (settings.user_salt, settings.redis_url) == ("", "")
    # Under the git-ignored .certdesk/ of the checkout, like the index.
    assert settings.db_path == CHECKOUT / ".certdesk" / "certdesk.sqlite3"
    assert settings.dedup_path == CHECKOUT / ".certdesk" / "seen.sqlite3"
    assert "/.certdesk/" in (CHECKOUT / ".gitignore").read_text().splitlines()


def test_settings_defaults_and_missing_variables() -> None:
    settings = Settings.from_env({})
    assert (settings.api_url, settings.command, settings.port) == ("https://slack.com/api/", "/cert", 3000)
    assert not settings.socket_mode
    assert settings.missing("http") == ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"]
    assert settings.missing("socket") == ["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"]
    ready = Settings.from_env({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SECRET})
    assert ready.missing("http") == [] and ready.missing("socket") == ["SLACK_APP_TOKEN"]


@pytest.mark.parametrize("env", [{"PORT": "http"}, {"PORT": "70000"}, {"CERTDESK_COMMAND": "cert"},
                                 {"SLACK_API_URL": "slack.com/api"}, {"CERTDESK_RATE_LIMIT": "0"},
                                 {"CERTDESK_RATE_LIMIT": "lots"}, {"CERTDESK_USER_SALT": "short-salt"},
                                 {"REDIS_URL": "http://:pw-9a8b@redis:6379"}])
def test_unusable_settings_are_refused(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(env)
    (name,) = env
    assert name in str(refused.value)
    if name in ("CERTDESK_USER_SALT", "REDIS_URL"):  # secrets: named, never shown
        assert env[name] not in str(refused.value) and "pw-9a8b" not in str(refused.value)


# --- de-dup record ------------------------------------------------------------------------


def test_seen_record_remembers_for_its_ttl_and_stays_bounded() -> None:
    now = [0.0]
    record = MemorySeenRecord(ttl=10, max_entries=3, clock=lambda: now[0])
    assert record.seen("a") is False and record.seen("a") is True
    now[0] = 11
    assert record.seen("a") is False  # expired, so new again
    for key in "bcd":
        record.seen(key)
    assert len(record) <= 3
    record.forget("d")
    assert record.seen("d") is False


def test_seen_record_is_thread_safe() -> None:
    record = MemorySeenRecord()
    with ThreadPoolExecutor(max_workers=8) as pool:
        firsts = list(pool.map(lambda _: not record.seen("same"), range(200)))
    assert sum(firsts) == 1


# --- certdesk serve: start-up refusals -----------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, slack_paths) -> pytest.MonkeyPatch:
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_API_URL",
                 "CERTDESK_COMMAND", "PORT", *PROXY_VARIABLES, *STATE_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CERTDESK_DB", str(slack_paths.index_dir.parent / "clean-env" / "certdesk.sqlite3"))
    monkeypatch.setenv("CERTDESK_SEEDS_DIR", str(slack_paths.seeds_dir))
    monkeypatch.setenv("CERTDESK_DATA_DIR", str(slack_paths.data_dir))
    monkeypatch.setenv("CERTDESK_INDEX_DIR", str(slack_paths.index_dir))
    return monkeypatch


def test_serve_without_tokens_names_the_missing_variables(clean_env, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "SLACK_BOT_TOKEN" in err and "SLACK_SIGNING_SECRET" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1

    clean_env.setenv("SLACK_SIGNING_SECRET", SECRET)
    clean_env.setenv("SLACK_APP_TOKEN", APP_TOKEN)  # Socket Mode now; still no bot token
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "SLACK_BOT_TOKEN" in err and "Socket Mode" in err
    assert not any(secret in err for secret in SECRETS)

    assert main(["serve", "--http"]) == 2
    err = capsys.readouterr().err
    assert "HTTP needs SLACK_BOT_TOKEN" in err and not any(secret in err for secret in SECRETS)


def test_serve_with_a_rejected_token_says_so_without_the_token(clean_env, fake_slack: FakeSlack,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    clean_env.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    clean_env.setenv("SLACK_SIGNING_SECRET", SECRET)
    clean_env.setenv("SLACK_API_URL", fake_slack.base_url)
    fake_slack.fail_next("auth.test", status=200, body={"ok": False, "error": "invalid_auth"})
    assert main(["serve", "--http", "--port", "1"]) == 1
    err = capsys.readouterr().err
    assert "certdesk serve: Slack rejected SLACK_BOT_TOKEN: invalid_auth" in err
    assert not any(secret in err for secret in SECRETS) and "Traceback" not in err


@pytest.mark.parametrize("variable, value, mode_args", [
    ("SLACK_BOT_TOKEN", "abc", ["--http"]),
    ("SLACK_BOT_TOKEN", "xoxp-123-456-user-token", ["--http"]),
    ("SLACK_APP_TOKEN", "xoxb-not-an-app-token", []),
])
def test_serve_with_a_token_of_the_wrong_shape_stops_before_calling_slack(
        clean_env, fake_slack: FakeSlack, capsys: pytest.CaptureFixture[str],
        variable: str, value: str, mode_args: list[str]) -> None:
    def must_not_serve(*args: object, **kwargs: object) -> int:
        raise AssertionError("started serving with a malformed token")

    clean_env.setattr(server, "run_http", must_not_serve)
    clean_env.setattr(server, "run_socket_mode", must_not_serve)
    clean_env.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    clean_env.setenv("SLACK_SIGNING_SECRET", SECRET)
    if "--http" not in mode_args:
        clean_env.setenv("SLACK_APP_TOKEN", APP_TOKEN)
    clean_env.setenv("SLACK_API_URL", fake_slack.base_url)
    clean_env.setenv(variable, value)
    assert main(["serve", *mode_args, "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and variable in err and "Traceback" not in err
    assert value not in err and not any(secret in err for secret in SECRETS)
    assert fake_slack.calls("auth.test") == []          # no network call was spent on it


def test_a_worker_that_fails_to_start_says_what_failed(settings, caplog: pytest.LogCaptureFixture) -> None:
    # Not an auth.test failure: the worker must not blame Slack, and must not carry on.
    broken = replace(settings, signing_secret="")
    with pytest.raises(StartupError, match="SLACK_SIGNING_SECRET"):
        server._worker_app(broken)
    assert "auth.test" not in caplog.text
    assert "could not start a worker: StartupError" in caplog.text


# --- Socket Mode ------------------------------------------------------------------------------


def test_socket_mode_answers_a_mention_and_a_slash_command(settings, slack_engine, fake_slack: FakeSlack,
                                                            fake_socket_mode: FakeSocketMode) -> None:
    listeners = ThreadPoolExecutor(max_workers=4, thread_name_prefix="test-listener")
    search = ThreadPoolExecutor(max_workers=2, thread_name_prefix="test-search")
    handler = socket_mode_handler(replace(settings, app_token=APP_TOKEN, signing_secret=""), slack_engine,
                                  listener_executor=listeners, search_pool=search)
    try:
        handler.connect()
        fake_socket_mode.wait_for_connection()
        (opened,) = fake_slack.calls("apps.connections.open")
        assert opened.token == APP_TOKEN

        mention = message_event(f"<@{BOT_USER_ID}> {QUESTION}", event_type="app_mention")
        envelope = fake_socket_mode.send_envelope("events_api", event_payload(mention))
        assert fake_socket_mode.wait_for_ack(envelope)["envelope_id"] == envelope
        (posted,) = fake_slack.wait_for("chat.postMessage")
        assert (posted.params["channel"], posted.params["thread_ts"]) == (CHANNEL_ID, mention["ts"])
        assert posted.token == BOT_TOKEN and NUMBER in json.dumps(posted.params["blocks"])

        command = fake_socket_mode.send_envelope("slash_commands", slash_command_payload(text=QUESTION))
        payload = fake_socket_mode.wait_for_ack(command)["payload"]
        assert payload["response_type"] == "ephemeral" and NUMBER in json.dumps(payload["blocks"])
    finally:
        fake_slack.stop()
        handler.close()
        listeners.shutdown(wait=True)
        search.shutdown(wait=True)


# --- gunicorn, as the Procfile runs it ---------------------------------------------------------


def test_certdesk_serve_http_under_gunicorn(fake_slack: FakeSlack, slack_paths, tmp_path: Path) -> None:
    """Two workers sharing the SQLite de-dup record: a redelivered event is answered once."""
    from slack_fixtures import internal_channel, own_user
    from slackstub import USER_ID

    fake_slack.users[USER_ID] = own_user(USER_ID)
    fake_slack.channels["D0DM"] = internal_channel("D0DM", is_channel=False, is_im=True)
    env = serve_env(tmp_path, slack_paths, fake_slack)
    db = Path(env["CERTDESK_DB"])
    with serving(env, tmp_path / "serve.log") as served:
        base = served.url
        # Checked by the parent before forking, then by each worker as it boots.
        fake_slack.wait_for("auth.test", count=1 + WORKERS, timeout=15)
        assert [c.token for c in fake_slack.calls("auth.test")] == [BOT_TOKEN] * (1 + WORKERS)

        status, _, body = post_signed(base + "/slack/events", *slash_command_body("/cert", QUESTION), SECRET)
        assert status == 200
        reply = json.loads(body)
        assert reply["response_type"] == "ephemeral" and NUMBER in json.dumps(reply["blocks"])

        # One event delivered six times (Slack's retries), spread over both workers by
        # the kernel: answered once, because the workers share one de-dup record.
        dm = message_event(QUESTION, channel_id="D0DM", channel_type="im")
        delivery = event_body(dm, event_id="Ev0GUNICORN1")
        for attempt in range(6):
            retry = {"X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": "http_timeout"} if attempt else {}
            assert post_signed(base + "/slack/events", *delivery, SECRET, extra_headers=retry)[0] == 200
        (posted,) = fake_slack.wait_for("chat.postMessage", timeout=10)
        assert posted.params["channel"] == "D0DM" and posted.token == BOT_TOKEN
        time.sleep(0.5)
        assert len(fake_slack.calls("chat.postMessage")) == 1

        assert post_signed(base + "/slack/events", *event_body(dm), "wrong")[0] == 401
    output = served.log()
    assert "gthread" in output and output.count("Booting worker") == WORKERS == 2
    assert not any(secret in output for secret in SECRETS)
    assert served.process.returncode == 0, output
    assert (db.parent / "seen.sqlite3").exists() and db.exists()  # where CERTDESK_DB said


def test_certdesk_serve_socket_mode_answers_and_stops_on_sigterm(
        fake_slack: FakeSlack, fake_socket_mode: FakeSocketMode, slack_paths, tmp_path: Path) -> None:
    # Socket Mode: an app token and no signing secret; HOME as it is here.
    env = serve_env(tmp_path, slack_paths, fake_slack, SLACK_APP_TOKEN=APP_TOKEN, SLACK_SIGNING_SECRET=None,
                    CERTDESK_DB=str(tmp_path / "certdesk.sqlite3"), HOME=os.environ.get("HOME"))
    process = subprocess.Popen([*certdesk_command(), "serve"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, start_new_session=True)
    try:
        fake_socket_mode.wait_for_connection(timeout=30)
        mention = message_event(f"<@{BOT_USER_ID}> {QUESTION}", event_type="app_mention")
        envelope = fake_socket_mode.send_envelope("events_api", event_payload(mention))
        fake_socket_mode.wait_for_ack(envelope)
        (posted,) = fake_slack.wait_for("chat.postMessage", timeout=10)
        assert posted.params["thread_ts"] == mention["ts"] and NUMBER in json.dumps(posted.params["blocks"])
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            output, _ = process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate(timeout=5)
    text = output.decode()
    assert process.returncode == 0, text
    assert "connected to Slack over Socket Mode" in text
    assert not any(secret in text for secret in SECRETS)


# --- worker count and log format -----------------------------------------------------------------


def test_web_concurrency_sets_the_gunicorn_workers() -> None:
    assert Settings.from_env({}).workers == WORKERS == 2
    settings = Settings.from_env({"WEB_CONCURRENCY": "5"})
    assert server.gunicorn_options("127.0.0.1", 3000, settings.workers)["workers"] == 5


@pytest.mark.parametrize("variable, value", [("WEB_CONCURRENCY", "two"), ("WEB_CONCURRENCY", "0"),
                                             ("LOG_FORMAT", "xml")])
def test_bad_worker_count_or_log_format_is_one_usage_line(clean_env, capsys: pytest.CaptureFixture[str],
                                                          variable: str, value: str) -> None:
    clean_env.setenv(variable, value)
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and variable in err


def test_log_format_json_makes_every_line_json(capsys: pytest.CaptureFixture[str]) -> None:
    import logging

    from bot.requestlog import configure, log_question

    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure("json")
        log_question(surface="slash", answered=True, top="TISAX", latency_ms=7, team="T1", user_hash="ab")
        logging.getLogger("slack_sdk.web").debug("https://hooks.slack.com/actions/T1/secret")
        lines = [json.loads(line) for line in capsys.readouterr().err.strip().splitlines()]
        assert [(e["logger"], e["surface"], e["top"]) for e in lines] == [("certdesk.requests", "slash", "TISAX")]
        assert logging.getLogger("slack_sdk").level == logging.WARNING
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
