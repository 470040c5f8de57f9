"""Redis unreachable under the real `certdesk serve --http`: gunicorn's two workers still
answer each Slack event once, because both fall back to the same SQLite record.

Kept apart from test_slack_serve.py so that only the Redis-outage case pays for its server.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from slackstub import USER_ID, FakeSlack, event_body, message_event, post_signed
from slackstub.fixtures import PROXY_VARIABLES, fake_slack  # noqa: F401  (fixture)
from slack_fixtures import *  # noqa: F401,F403  (pytest fixtures)
from slack_fixtures import BOT_TOKEN, SECRET, STATE_VARIABLES, USER_SALT, internal_channel, own_user

from bot.server import WORKERS
from redis_support import free_port

QUESTION = "TRUCS certificate number for object storage"
EVENTS = 10       # each delivered DELIVERIES times at once: the kernel spreads them over both workers
DELIVERIES = 4


def _certdesk() -> list[str]:
    script = Path(sys.executable).parent / "certdesk"
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


def _deliver_at_once(url: str, body: tuple[bytes, str], times: int) -> list[int]:
    """POST the same signed event `times` times concurrently, as Slack's retries can arrive."""
    start, statuses, lock = threading.Barrier(times), [], threading.Lock()

    def deliver(attempt: int) -> None:
        start.wait(timeout=10)
        retry = {"X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": "http_timeout"} if attempt else {}
        status = post_signed(url, *body, SECRET, extra_headers=retry)[0]
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=15)
    return statuses


def test_gunicorn_workers_with_redis_unreachable_answer_each_event_once(
        fake_slack: FakeSlack, slack_paths, tmp_path: Path) -> None:
    fake_slack.users[USER_ID] = own_user(USER_ID)
    fake_slack.channels["D0DM"] = internal_channel("D0DM", is_channel=False, is_im=True)
    port = free_port()
    db = tmp_path / "state" / "certdesk.sqlite3"
    env = {k: v for k, v in os.environ.items()
           if k not in PROXY_VARIABLES and k not in STATE_VARIABLES and not k.startswith("SLACK_")}
    env.update(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=fake_slack.base_url,
               CERTDESK_SEEDS_DIR=str(slack_paths.seeds_dir), CERTDESK_DATA_DIR=str(slack_paths.data_dir),
               CERTDESK_INDEX_DIR=str(slack_paths.index_dir), CERTDESK_DB=str(db),
               CERTDESK_USER_SALT=USER_SALT, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
               HOME=str(tmp_path), PYTHONUNBUFFERED="1")
    log_path = tmp_path / "serve.log"
    base = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with open(log_path, "wb") as log:
        process = subprocess.Popen([*_certdesk(), "serve", "--http", "--host", "127.0.0.1", "--port", str(port)],
                                   env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + 30
            while True:
                assert process.poll() is None, log_path.read_text()
                try:
                    with opener.open(base + "/healthz", timeout=2) as response:
                        assert response.read() == b"ok\n"
                        break
                except (urllib.error.URLError, ConnectionError):
                    assert time.monotonic() < deadline, log_path.read_text()
                    time.sleep(0.1)
            fake_slack.wait_for("auth.test", count=1 + WORKERS, timeout=15)  # both workers are up

            for n in range(EVENTS):
                dm = message_event(f"{QUESTION} ({n})", channel_id="D0DM", channel_type="im",
                                   ts=f"1700000300.{n:06d}")
                delivery = event_body(dm, event_id=f"Ev0NOREDIS{n}")
                assert _deliver_at_once(base + "/slack/events", delivery, DELIVERIES) == [200] * DELIVERIES
            fake_slack.wait_for("chat.postMessage", count=EVENTS, timeout=10)
            time.sleep(0.5)
            posted = fake_slack.calls("chat.postMessage")
            assert len(posted) == EVENTS, f"{len(posted)} posts for {EVENTS} events"
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)  # its own session: only what it started
                process.wait(timeout=5)
    output = log_path.read_text()
    assert output.count("Booting worker") == WORKERS == 2
    assert (db.parent / "seen.sqlite3").exists()           # the workers' shared record
    assert output.count("Redis de-dup unavailable") <= WORKERS  # once per worker, not per event
