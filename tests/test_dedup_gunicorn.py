"""Redis unreachable under the real `certdesk serve --http`: gunicorn's two workers still
answer each Slack event once, because both fall back to the same SQLite record.

Kept apart from test_slack_serve.py so that only the Redis-outage case pays for its server.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from slackstub import USER_ID, FakeSlack, event_body, message_event, post_signed
from slackstub.fixtures import fake_slack  # noqa: F401  (fixture)
from slack_fixtures import *  # noqa: F401,F403  (pytest fixtures)
from slack_fixtures import SECRET, internal_channel, own_user

from bot.server import WORKERS
from redis_support import free_port
from serve_process import serve_env, serving

QUESTION = "TRUCS certificate number for object storage"
EVENTS = 10       # each delivered DELIVERIES times at once: the kernel spreads them over both workers
DELIVERIES = 4


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
    env = serve_env(tmp_path, slack_paths, fake_slack, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    db = Path(env["CERTDESK_DB"])
    with serving(env, tmp_path / "serve.log") as served:
        base = served.url
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
    output = served.log()
    assert output.count("Booting worker") == WORKERS == 2
    assert (db.parent / "seen.sqlite3").exists()           # the workers' shared record
    assert output.count("Redis de-dup unavailable") <= WORKERS  # once per worker, not per event
