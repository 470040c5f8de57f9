"""Follow-ups under the real `certdesk serve --http`: gunicorn's two workers, then a restart.

The first question of a thread and its follow-ups are delivered at once, so the kernel spreads
them over both workers; every follow-up must still be read in the thread's context, and so must
one asked after the server was stopped and started again (bot/threadmemory.py: the SQLite file
beside the question log, not a worker's memory).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from slackstub import BOT_USER_ID, CHANNEL_ID, USER_ID, FakeSlack, event_body, message_event, post_signed
from slackstub.fixtures import fake_slack  # noqa: F401  (fixture)
from slack_fixtures import *  # noqa: F401,F403  (pytest fixtures)
from slack_fixtures import SECRET, internal_channel, own_user

from bot.server import WORKERS
from serve_process import serve_env, serving

FOLLOW_UPS = 8
ROOT = "1700002000.000001"


def _deliver(url: str, text: str, ts: str, thread_ts: str | None = None) -> int:
    event = message_event(f"<@{BOT_USER_ID}> {text}", event_type="app_mention", ts=ts, thread_ts=thread_ts)
    return post_signed(url, *event_body(event, event_id=f"Ev{ts.replace('.', '')}"), SECRET)[0]


def _in_context(posted) -> bool:
    blocks = json.dumps(posted.params["blocks"], ensure_ascii=False)
    # The earlier question is the thread's latest: the first one, or a follow-up's searched form.
    return "*TISAX*" in blocks and "Follow-up to “TISAX " in blocks and "searched: “TISAX level in Germany”" in blocks


def test_follow_ups_are_understood_by_every_worker_and_after_a_restart(
        fake_slack: FakeSlack, slack_paths, tmp_path: Path) -> None:
    fake_slack.users[USER_ID] = own_user(USER_ID)
    fake_slack.channels[CHANNEL_ID] = internal_channel(CHANNEL_ID)
    env = serve_env(tmp_path, slack_paths, fake_slack)
    with serving(env, tmp_path / "serve.log") as served:
        fake_slack.wait_for("auth.test", count=1 + WORKERS, timeout=15)  # both workers are up
        url = served.url + "/slack/events"
        assert _deliver(url, "TISAX assessment level?", ROOT) == 200
        fake_slack.wait_for("chat.postMessage", timeout=10)

        statuses: list[int] = []
        start = threading.Barrier(FOLLOW_UPS)

        def follow_up(n: int) -> None:
            start.wait(timeout=10)
            statuses.append(_deliver(url, "and in Germany?", f"1700002000.{n + 100:06d}", ROOT))

        threads = [threading.Thread(target=follow_up, args=(n,)) for n in range(FOLLOW_UPS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=15)
        assert statuses == [200] * FOLLOW_UPS
        posted = fake_slack.wait_for("chat.postMessage", count=1 + FOLLOW_UPS, timeout=20)
    assert served.log().count("Booting worker") == WORKERS == 2
    answers = posted[1:]
    assert all(p.params["thread_ts"] == ROOT for p in answers)
    assert [_in_context(p) for p in answers] == [True] * FOLLOW_UPS

    with serving(env, tmp_path / "serve-again.log") as again:        # a restart loses nothing
        assert _deliver(again.url + "/slack/events", "and in Germany?", "1700002000.000999", ROOT) == 200
        after = fake_slack.wait_for("chat.postMessage", count=2 + FOLLOW_UPS, timeout=20)[-1]
    assert after.params["thread_ts"] == ROOT and _in_context(after)
