"""Trust and safety through Slack, end to end over signed HTTP on 127.0.0.1 (Slack faked).

Who may see what (audience), which workspaces may ask (allow-list), how often (rate limit),
never twice across workers (shared de-dup), what is recorded (question log, feedback),
hostile questions, and no secret in any log. Each test pairs its negative check with a
positive control, so a test cannot pass because nothing happened at all.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import sqlite3
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from slackstub import (
    BOT_USER_ID,
    CHANNEL_ID,
    TEAM_ID,
    USER_ID,
    FakeSlack,
    block_actions_body,
    event_payload,
    message_event,
    slash_command_body,
)
from slackstub.fixtures import fake_slack  # noqa: F401  (pytest fixture)
from slack_fixtures import *  # noqa: F401,F403  (pytest fixtures)
from slack_fixtures import QUIET, buttons, no_more, text_of
from slack_fixtures import (
    APP_TOKEN,
    BOT_TOKEN,
    DM,
    SECRET,
    SHARED_CHANNEL,
    USER_SALT,
    Served,
    internal_channel,
    own_user,
    shared_channel,
)

from bot import answering
from bot.app import load_or_create_salt
from bot.blocks import FEEDBACK_DOWN_ACTION_ID, FEEDBACK_UP_ACTION_ID, SHARE_ACTION_ID, render_answer
from bot.policy import OUTSIDE_NOTICE, REFUSAL, SHARED_NOTICE
from bot.surfaces import actions
from index.answer import Answer, CertificateNumber, Result

QUESTION = "TRUCS certificate number for object storage"
NUMBER = "02016"
OTHER_TEAM = "T0OTHER"

PUBLIC = Result(certification="Public Cert", title="Public doc", passage="Public passage.",
                certificate_numbers=(CertificateNumber("Cert", "PUB-1"),), visibility="public")
INTERNAL = Result(certification="Internal Audit Memo", title="Memo", passage="Internal only.",
                  certificate_numbers=(CertificateNumber("Memo", "IM-7"),), visibility="internal")


class RecordingEngine:
    """Quotes an internal memo (IM-7) only for the internal audience; records every audience."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.catalogs: list[str] = []
        self._lock = threading.Lock()

    def ask(self, question: str, *, audience: str = "internal") -> Answer:
        with self._lock:
            self.asked.append(audience)
        results = (INTERNAL, PUBLIC) if audience == "internal" else (PUBLIC,)
        return Answer(question=question, answered=True, results=results)

    def catalog(self, *, audience: str = "internal") -> list[tuple[str, str | None]]:
        with self._lock:
            self.catalogs.append(audience)
        return [("Public Cert", None)] + ([("Internal Audit Memo", None)] if audience == "internal" else [])





def mention(text: str, **fields: Any) -> dict[str, Any]:
    return message_event(f"<@{BOT_USER_ID}> {text}", event_type="app_mention", **fields)


def post_event(served: Served, event: dict[str, Any], *, ext_shared: bool = False, **fields: Any) -> int:
    """An Events API delivery; `ext_shared` sets the envelope's is_ext_shared_channel."""
    body = {**event_payload(event, **fields), "is_ext_shared_channel": ext_shared}
    return served.post((json.dumps(body).encode(), "application/json"))[0]


def question_rows(db: Path) -> list[sqlite3.Row]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute("SELECT * FROM questions ORDER BY id").fetchall()


@pytest.fixture
def engine() -> RecordingEngine:
    return RecordingEngine()


@pytest.fixture
def served(serve_app, engine: RecordingEngine) -> Served:
    return serve_app(engine=engine)


# --- 1. audience ------------------------------------------------------------------------------


def test_own_user_in_an_internal_conversation_gets_internal_documents_privately(
        served: Served, engine: RecordingEngine, fake_slack: FakeSlack) -> None:
    reply = served.command("memo number")                # internal channel, our own user
    assert "IM-7" in text_of(reply) and answering.INTERNAL_NOTICE in text_of(reply)
    assert post_event(served, message_event("memo number", channel_id=DM, channel_type="im")) == 200
    (posted,) = fake_slack.wait_for("chat.postMessage")
    assert "IM-7" in text_of(posted.params)
    assert engine.asked == ["internal", "internal"]


def test_slash_command_in_a_shared_channel_quotes_public_documents_only(
        served: Served, engine: RecordingEngine, fake_slack: FakeSlack) -> None:
    control = served.command("memo number")
    assert "IM-7" in text_of(control)
    reply = served.command("memo number", channel_id=SHARED_CHANNEL)
    assert "IM-7" not in text_of(reply) and "PUB-1" in text_of(reply)
    assert SHARED_NOTICE in text_of(reply)
    assert engine.asked == ["internal", "public"]


def test_a_dm_flagged_ext_shared_on_the_event_is_public(served: Served, engine: RecordingEngine,
                                                        fake_slack: FakeSlack) -> None:
    """A Slack Connect DM says so on the event body; conversations.info is not even needed."""
    assert post_event(served, message_event("memo", channel_id=DM, channel_type="im"), ext_shared=True) == 200
    (posted,) = fake_slack.wait_for("chat.postMessage")
    assert "IM-7" not in text_of(posted.params) and SHARED_NOTICE in text_of(posted.params)
    assert engine.asked == ["public"]


@pytest.mark.parametrize("failure", ["500", "429", "channel_not_found", "missing_scope"])
def test_a_channel_that_cannot_be_checked_counts_as_shared(serve_app, engine: RecordingEngine,
                                                           fake_slack: FakeSlack, failure: str,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bot")
    served = serve_app(engine=engine)
    if failure == "500":  # the look-up and its one retry
        fake_slack.fail_next("conversations.info", status=500, times=2)
    elif failure == "429":  # not retried
        fake_slack.fail_next("conversations.info", status=429, headers={"Retry-After": "20"})
    elif failure == "missing_scope":
        fake_slack.fail_next("conversations.info", status=200, body={"ok": False, "error": "missing_scope"})
    else:
        del fake_slack.channels[CHANNEL_ID]
    started = time.monotonic()
    reply = served.command("memo number")
    assert time.monotonic() - started < 2.5  # a 429 is not waited on: the answer narrows instead
    assert "IM-7" not in text_of(reply) and SHARED_NOTICE in text_of(reply)
    assert engine.asked == ["public"]
    assert "treating it as shared" in caplog.text
    # Control: once Slack answers again, the same channel is internal again (failures are not cached).
    fake_slack.channels[CHANNEL_ID] = internal_channel(CHANNEL_ID)
    assert "IM-7" in text_of(served.command("memo number"))


@pytest.mark.parametrize("who", ["customer", "stranger", "unknown", "users.info fails"])
def test_anyone_not_of_our_organisation_gets_public_documents_only(serve_app, engine: RecordingEngine,
                                                                   fake_slack: FakeSlack, who: str) -> None:
    served = serve_app(engine=engine)
    user = {"customer": "U0CUSTOMER", "stranger": "U0STRANGER", "unknown": "U0NOBODY",
            "users.info fails": "U0FLAKY"}[who]
    fake_slack.users["U0CUSTOMER"] = own_user("U0CUSTOMER", team_id="T0CUSTOMER")
    fake_slack.users["U0STRANGER"] = own_user("U0STRANGER", is_stranger=True)
    fake_slack.users["U0FLAKY"] = own_user("U0FLAKY")
    if who == "users.info fails":  # the look-up and its one retry
        fake_slack.fail_next("users.info", status=500, times=2)
    reply = served.command("memo number", user_id=user)
    assert "IM-7" not in text_of(reply) and OUTSIDE_NOTICE in text_of(reply)
    assert engine.asked == ["public"]
    assert "IM-7" in text_of(served.command("memo number"))  # control: our own user, same channel


def test_home_team_is_auth_tests_team_not_the_requests(serve_app, engine: RecordingEngine,
                                                       fake_slack: FakeSlack) -> None:
    """A workspace we were installed in, with no allow-list: its own users are not ours."""
    fake_slack.users["U0ELSE"] = own_user("U0ELSE", team_id=OTHER_TEAM)
    served = serve_app(engine=engine)
    reply = served.command("memo number", user_id="U0ELSE", team_id=OTHER_TEAM)
    assert "IM-7" not in text_of(reply) and OUTSIDE_NOTICE in text_of(reply)
    # CERTDESK_HOME_TEAM overrides auth.test: now that workspace is the home one.
    home_is_other = serve_app(engine=engine, home_team=OTHER_TEAM)
    assert "IM-7" in text_of(home_is_other.command("memo number", user_id="U0ELSE", team_id=OTHER_TEAM))
    assert "IM-7" not in text_of(home_is_other.command("memo number"))  # and ours is not


def test_look_ups_are_cached(served: Served, fake_slack: FakeSlack) -> None:
    for _ in range(3):
        assert "IM-7" in text_of(served.command("memo number"))
    assert len(fake_slack.calls("users.info")) == 1
    assert len(fake_slack.calls("conversations.info")) == 1


@pytest.mark.parametrize("event_type", ["channel_shared", "channel_unshared"])
def test_sharing_events_forget_the_cached_channel(served: Served, fake_slack: FakeSlack,
                                                  event_type: str) -> None:
    starts_sharing = event_type == "channel_shared"
    channel = "C0CHANGING"

    def internal_quoted() -> bool:
        return "IM-7" in text_of(served.command("memo number", channel_id=channel))

    fake_slack.channels[channel] = (internal_channel if starts_sharing else shared_channel)(channel)
    before = internal_quoted()
    assert before is starts_sharing
    fake_slack.channels[channel] = (shared_channel if starts_sharing else internal_channel)(channel)
    assert internal_quoted() is before  # cached: within its TTL nothing changes by itself
    event = {"type": event_type, "channel": channel, "connected_team_id": "T0CUSTOMER",
             "event_ts": f"{time.time():.6f}"}
    assert post_event(served, event) == 200
    deadline = time.monotonic() + 5
    while (after := internal_quoted()) is before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert after is not before


def test_mentions_and_shares_are_public_even_in_internal_channels(served: Served, engine: RecordingEngine,
                                                                   fake_slack: FakeSlack) -> None:
    """Internal documents only in the asker's ephemeral reply or DM, never in a post for all."""
    reply = served.command("memo number")
    assert "IM-7" in text_of(reply)
    assert post_event(served, mention("memo number")) == 200
    (posted,) = fake_slack.wait_for("chat.postMessage")
    assert "IM-7" not in text_of(posted.params) and SHARED_NOTICE in text_of(posted.params)
    click = block_actions_body(SHARE_ACTION_ID, buttons(reply["blocks"])[SHARE_ACTION_ID],
                               response_url=fake_slack.response_url("share"))
    assert served.post(click)[0] == 200
    shared, _deleted = fake_slack.wait_for("response_url", count=2)
    assert shared.params["response_type"] == "in_channel"
    assert "IM-7" not in text_of(shared.params) and "PUB-1" in text_of(shared.params)
    assert engine.asked == ["internal", "public", "public"]


def test_app_home_lists_internal_certifications_only_to_our_own_people(serve_app, engine: RecordingEngine,
                                                                        fake_slack: FakeSlack) -> None:
    served = serve_app(engine=engine)
    fake_slack.users["U0CUSTOMER"] = own_user("U0CUSTOMER", team_id="T0CUSTOMER")
    for user in (USER_ID, "U0CUSTOMER"):
        event = {"type": "app_home_opened", "user": user, "channel": DM, "tab": "home",
                 "event_ts": f"{time.time():.6f}"}
        assert post_event(served, event) == 200
    own, customer = sorted(fake_slack.wait_for("views.publish", count=2),
                           key=lambda c: c.params["user_id"] != USER_ID)
    assert "Internal Audit Memo" in json.dumps(own.params["view"])
    assert "Internal Audit Memo" not in json.dumps(customer.params["view"])
    assert sorted(engine.catalogs) == ["internal", "public"]


# --- 2. allow-list -----------------------------------------------------------------------------


def test_other_workspaces_get_the_refusal_and_no_content_on_every_surface(
        serve_app, engine: RecordingEngine, fake_slack: FakeSlack) -> None:
    served = serve_app(engine=engine, allowed_teams=frozenset({TEAM_ID}))
    fake_slack.users["U0ELSE"] = own_user("U0ELSE", team_id=OTHER_TEAM)
    other = {"user_id": "U0ELSE", "team_id": OTHER_TEAM}

    # Slash command: the refusal, ephemeral, nothing else.
    reply = served.command(QUESTION, **other)
    assert reply["response_type"] == "ephemeral" and reply["text"] == REFUSAL
    assert served.command("help", **other)["text"] == REFUSAL  # not even the help text
    # DM: the refusal in the DM.
    assert post_event(served, message_event(QUESTION, channel_id="D0ELSE", channel_type="im",
                                            user_id="U0ELSE"), team_id=OTHER_TEAM) == 200
    (dm,) = fake_slack.wait_for("chat.postMessage")
    assert dm.params["text"] == REFUSAL and dm.params["channel"] == "D0ELSE"
    # Mention: the refusal to the asker alone, nothing in the channel.
    assert post_event(served, mention(QUESTION, user_id="U0ELSE"), team_id=OTHER_TEAM) == 200
    (ephemeral,) = fake_slack.wait_for("chat.postEphemeral")
    assert ephemeral.params["text"] == REFUSAL and ephemeral.params["user"] == "U0ELSE"
    # Share and feedback buttons: the refusal, nothing shared or counted.
    for action_id, value in ((SHARE_ACTION_ID, json.dumps({"q": QUESTION})), (FEEDBACK_UP_ACTION_ID, "1")):
        click = block_actions_body(action_id, value, user_id="U0ELSE", team_id=OTHER_TEAM,
                                   response_url=fake_slack.response_url(action_id))
        assert served.post(click)[0] == 200
        (said,) = fake_slack.wait_for("response_url", lambda c, a=action_id: c.path.endswith(a))
        assert said.params["text"] == REFUSAL and said.params["response_type"] == "ephemeral"
    # App Home: nothing published.
    assert post_event(served, {"type": "app_home_opened", "user": "U0ELSE", "channel": "D0ELSE",
                               "tab": "home", "event_ts": "1.0"}, team_id=OTHER_TEAM) == 200
    assert engine.asked == [] and engine.catalogs == []

    # Control: our own workspace is answered on the same app.
    assert NUMBER in text_of(served.command(QUESTION)) or "PUB-1" in text_of(served.command(QUESTION))
    no_more(fake_slack, "chat.postMessage", 1)
    assert fake_slack.calls("views.publish") == []
    assert [c.params["text"] for c in fake_slack.calls("response_url")] == [REFUSAL, REFUSAL]


# --- 3. rate limit -----------------------------------------------------------------------------


def test_past_the_rate_limit_the_friendly_message_instead_of_an_answer(
        serve_app, engine: RecordingEngine, fake_slack: FakeSlack) -> None:
    served = serve_app(engine=engine, rate_limit=2)
    assert "PUB-1" in text_of(served.command("one")) and "PUB-1" in text_of(served.command("two"))
    limited = served.command("three")
    assert "asked a lot of questions" in limited["text"] and "PUB-1" not in text_of(limited)
    # A mention past the limit: the notice to the asker alone, nothing in the channel.
    assert post_event(served, mention("four")) == 200
    (ephemeral,) = fake_slack.wait_for("chat.postEphemeral")
    assert "asked a lot of questions" in ephemeral.params["text"] and ephemeral.params["user"] == USER_ID
    # A DM past the limit: said in the DM.
    assert post_event(served, message_event("five", channel_id=DM, channel_type="im")) == 200
    (dm,) = fake_slack.wait_for("chat.postMessage")
    assert "asked a lot of questions" in dm.params["text"]
    assert len(engine.asked) == 2
    # Per user: someone else is still answered.
    assert "PUB-1" in text_of(served.command("six", user_id="U0SALES"))


# --- 4. never twice across workers ------------------------------------------------------------


def _delivered_twice_to_two_apps(one: Served, other: Served, fake_slack: FakeSlack) -> None:
    dm = message_event(QUESTION, channel_id=DM, channel_type="im")
    assert post_event(one, dm, event_id="Ev0SAME0001") == 200
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    body = {**event_payload(dm, event_id="Ev0SAME0001"), "is_ext_shared_channel": False}
    assert other.post((json.dumps(body).encode(), "application/json"), headers=retry)[0] == 200
    fake_slack.wait_for("chat.postMessage")
    # The same message by its other route (a mention), to the second app.
    assert post_event(other, {**dm, "type": "app_mention"}) == 200
    no_more(fake_slack, "chat.postMessage", 1)
    # Control: a new message to the second app is answered.
    assert post_event(other, message_event("help", channel_id=DM, channel_type="im")) == 200
    fake_slack.wait_for("chat.postMessage", count=2)


def test_two_app_instances_sharing_one_sqlite_file_answer_an_event_once(serve_app, settings,
                                                                         fake_slack: FakeSlack) -> None:
    one, other = serve_app(), serve_app()
    assert one.settings.dedup_path == other.settings.dedup_path
    _delivered_twice_to_two_apps(one, other, fake_slack)
    assert settings.dedup_path.exists()


def test_concurrent_deliveries_to_two_instances_are_answered_exactly_once(serve_app,
                                                                          fake_slack: FakeSlack) -> None:
    """Each message reaches both instances at the same moment, once as a DM event and once as a
    mention (different event ids, one message): never twice, and never zero times either."""
    one, other = serve_app(rate_limit=1000), serve_app(rate_limit=1000)
    rounds = 25
    for n in range(rounds):
        dm = message_event("help", channel_id=DM, channel_type="im", ts=f"1700000200.{n:06d}")
        routes = [(one, dm, f"Ev0DM{n:06d}"), (other, dm, f"Ev0DM{n:06d}"),
                  (one, {**dm, "type": "app_mention"}, f"Ev0AM{n:06d}"),
                  (other, {**dm, "type": "app_mention"}, f"Ev0AM{n:06d}")]
        start = threading.Barrier(len(routes))

        def deliver(served: Served, event: dict[str, Any], event_id: str) -> None:
            start.wait(timeout=10)
            assert post_event(served, event, event_id=event_id) == 200

        threads = [threading.Thread(target=deliver, args=route) for route in routes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
    posted = fake_slack.wait_for("chat.postMessage", count=rounds, timeout=20)
    no_more(fake_slack, "chat.postMessage", rounds)
    assert sorted(c.params["channel"] for c in posted) == [DM] * rounds


def test_two_app_instances_sharing_one_redis_answer_an_event_once(serve_app, redis_server,
                                                                   fake_slack: FakeSlack, tmp_path: Path) -> None:
    redis = redis_server()
    # Different SQLite paths: only Redis is shared.
    one = serve_app(redis_url=redis.url, db_path=tmp_path / "one" / "certdesk.sqlite3")
    other = serve_app(redis_url=redis.url, db_path=tmp_path / "other" / "certdesk.sqlite3")
    _delivered_twice_to_two_apps(one, other, fake_slack)
    assert not (tmp_path / "one" / "seen.sqlite3").exists()


# --- 5. record and learn ----------------------------------------------------------------------


def test_every_question_is_logged_with_a_hashed_user(served: Served, fake_slack: FakeSlack) -> None:
    served.command("memo number")
    assert post_event(served, message_event("dm question", channel_id=DM, channel_type="im")) == 200
    assert post_event(served, mention(f"mention question for <@U0SOMEONE>")) == 200
    fake_slack.wait_for("chat.postMessage", count=2)
    rows = question_rows(served.settings.db_path)
    assert sorted((r["question"], r["channel_type"]) for r in rows) == [  # DM and mention race
        ("dm question", "im"), ("memo number", "slash"), ("mention question for @someone", "channel")]
    expected_hash = hmac.new(USER_SALT.encode(), USER_ID.encode(), hashlib.sha256).hexdigest()
    for row in rows:
        assert row["team_id"] == TEAM_ID and row["user_hash"] == expected_hash
        assert row["answered"] == 1 and row["top_certification"] in ("Internal Audit Memo", "Public Cert")
        assert row["latency_ms"] > 0 and abs(row["asked_at"] - time.time()) < 60
    assert USER_ID not in json.dumps([dict(r) for r in rows])


def test_feedback_buttons_record_one_vote_per_user(served: Served, fake_slack: FakeSlack) -> None:
    reply = served.command("memo number")
    found = buttons(reply["blocks"])
    (row,) = question_rows(served.settings.db_path)
    assert found[FEEDBACK_UP_ACTION_ID] == found[FEEDBACK_DOWN_ACTION_ID] == str(row["id"])
    for n, action_id in enumerate((FEEDBACK_UP_ACTION_ID, FEEDBACK_DOWN_ACTION_ID), start=1):
        click = block_actions_body(action_id, str(row["id"]), response_url=fake_slack.response_url("fb"))
        assert served.post(click)[0] == 200
        thanks = fake_slack.wait_for("response_url", count=n)[-1]
        assert thanks.params["text"] == actions.THANKS
        assert thanks.params["response_type"] == "ephemeral" and thanks.params["replace_original"] is False
    with sqlite3.connect(served.settings.db_path) as conn:
        assert conn.execute("SELECT question_id, helpful FROM feedback").fetchall() == [(row["id"], 0)]
    # DM and mention answers carry them too.
    assert post_event(served, mention("memo number")) == 200
    (posted,) = fake_slack.wait_for("chat.postMessage")
    assert FEEDBACK_UP_ACTION_ID in buttons(posted.params["blocks"])


def test_feedback_buttons_in_blocks() -> None:
    answered = Answer(question="q", answered=True, results=(PUBLIC,))
    message = render_answer(answered, share_button=True, feedback_ref=42)
    (actions,) = [b for b in message.blocks if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == [SHARE_ACTION_ID, FEEDBACK_UP_ACTION_ID,
                                                             FEEDBACK_DOWN_ACTION_ID]
    assert [e["value"] for e in actions["elements"][1:]] == ["42", "42"]
    assert FEEDBACK_UP_ACTION_ID not in json.dumps(render_answer(answered).blocks)
    unanswered = render_answer(Answer(question="q", answered=False), feedback_ref=42)
    assert FEEDBACK_UP_ACTION_ID not in json.dumps(unanswered.blocks)


def test_a_broken_question_log_never_stops_an_answer(serve_app, settings, fake_slack: FakeSlack,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bot")
    settings.db_path.parent.mkdir(parents=True, exist_ok=True)
    settings.db_path.write_bytes(b"this is not a SQLite database" * 100)
    served = serve_app()
    reply = served.command(QUESTION)
    assert NUMBER in text_of(reply) and FEEDBACK_UP_ACTION_ID not in buttons(reply["blocks"])
    assert post_event(served, message_event(QUESTION, channel_id=DM, channel_type="im")) == 200
    (posted,) = fake_slack.wait_for("chat.postMessage")
    assert NUMBER in text_of(posted.params)
    assert "recording a question in the question log failed (DatabaseError)" in caplog.text


def test_an_unwritable_state_directory_never_stops_an_answer(serve_app, settings, fake_slack: FakeSlack,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    """CERTDESK_DB under a path that cannot be a directory: no question log, no shared de-dup
    record, both logged; the question is answered all the same."""
    caplog.set_level(logging.WARNING, logger="bot")
    blocker = settings.db_path.parent.parent / "not-a-directory"
    blocker.write_text("")
    served = serve_app(user_salt="", db_path=blocker / "certdesk.sqlite3")
    reply = served.command(QUESTION)
    assert NUMBER in text_of(reply)
    assert post_event(served, message_event(QUESTION, channel_id=DM, channel_type="im")) == 200
    (posted,) = fake_slack.wait_for("chat.postMessage")
    assert NUMBER in text_of(posted.params)
    assert "question log disabled" in caplog.text and "answering anyway" in caplog.text


def test_without_a_configured_salt_one_is_generated_once_with_mode_0600(
        serve_app, settings, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    one = serve_app(user_salt="")
    one.command(QUESTION)
    salt_file = settings.salt_path
    assert salt_file.parent == settings.db_path.parent
    assert salt_file.stat().st_mode & 0o777 == 0o600
    assert "generated a new user-id salt" in caplog.text
    assert "readable by others" not in caplog.text  # created 0600, not tightened afterwards
    salt = salt_file.read_text().strip()
    assert re.fullmatch(r"[0-9a-f]{64}", salt)
    serve_app(user_salt="").command(QUESTION)  # a second worker: same salt, same hash
    first, second = question_rows(settings.db_path)
    assert first["user_hash"] == second["user_hash"] == hmac.new(
        salt.encode(), USER_ID.encode(), hashlib.sha256).hexdigest()
    assert salt_file.read_text().strip() == salt


def test_workers_racing_to_create_the_salt_agree(tmp_path: Path) -> None:
    path = tmp_path / "state" / "certdesk.sqlite3.salt"
    got: list[str] = []
    start = threading.Barrier(8)

    def create() -> None:
        start.wait(timeout=10)
        got.append(load_or_create_salt(path))

    workers = [threading.Thread(target=create) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=10)
    assert len(got) == 8 and len(set(got)) == 1
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temporary files left


def test_a_salt_file_readable_by_others_is_tightened(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bot")
    path = tmp_path / "salt"
    path.write_text("0123456789abcdef0123456789abcdef\n")
    os.chmod(path, 0o644)
    assert load_or_create_salt(path) == "0123456789abcdef0123456789abcdef"
    assert path.stat().st_mode & 0o777 == 0o600 and "readable by others" in caplog.text
    assert "0123456789abcdef" not in caplog.text


# --- 6. hostile inputs --------------------------------------------------------------------------

HOSTILE = [
    "",
    "   \t  ",
    "x" * 5000,
    "ISO " * 1250,
    "AND OR NOT (",
    "title:*",
    "[a TO",
    '"unbalanced quote',
    "''' \"\"\" '",
    "🔥🔒 PCI DSS 🇸🇬 ✅",
    "\x00\x01\x07\x1b[31mred\x1b[0m\x7f",
    "<script>alert(1)</script> <b>bold</b> &amp; &lt;",
    "'; DROP TABLE questions; --",
    "1 OR 1=1",
    "../../../../etc/passwd",
    "..\\..\\windows\\system32",
    "<!channel> urgent",
    "<!here> anyone?",
    "<!everyone> hello",
    "<@U123> is this right?",
    "<@U123|bob> and <#C123|general>",
    "<!subteam^S1> team",
    "<!subteam^S1|@sales> <!date^1392734382^{date}|x>",
    "*bold* _it_ ~strike~ `code` ```block```",
    "payload=%7B%22q%22%7D",
]
PINGS = re.compile(r"<[!@#]")


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_questions_get_a_sensible_reply_and_ping_nobody(serve_app, fake_slack: FakeSlack,
                                                                text: str) -> None:
    served = serve_app()
    reply = served.answer(text)  # asserts HTTP 200 (never a 5xx)
    assert reply["response_type"] == "ephemeral" and reply["text"] and reply["blocks"]
    assert not PINGS.search(text_of(reply)), text_of(reply)

    event = mention(text)
    assert post_event(served, event) == 200
    (posted,) = fake_slack.wait_for("chat.postMessage")
    assert posted.params["thread_ts"] == event["ts"] and posted.params["text"]
    assert not PINGS.search(text_of(posted.params)), text_of(posted.params)
    if "<!channel>" in text:
        assert "&lt;!channel&gt;" in text_of(reply) and "&lt;!channel&gt;" in text_of(posted.params)

    # Still serving.
    assert NUMBER in text_of(served.answer(QUESTION))
    assert served.get("/healthz") == (200, b"ok\n")


def test_the_hostile_corpus_in_a_row_keeps_one_server_serving(serve_app, fake_slack: FakeSlack) -> None:
    served = serve_app(rate_limit=1000)
    for n, text in enumerate(HOSTILE):
        reply = served.command(text)
        assert not PINGS.search(text_of(reply))
        assert post_event(served, mention(text, ts=f"1700000100.{n:06d}")) == 200
    posted = fake_slack.wait_for("chat.postMessage", count=len(HOSTILE), timeout=20)
    assert not any(PINGS.search(text_of(c.params)) for c in posted)
    assert all(c.status == 200 for c in posted)
    assert NUMBER in text_of(served.command(QUESTION))


# --- 7. secrets never in logs or errors ----------------------------------------------------------

REDIS_PASSWORD = "redis-pass-0c9b8a7f6e5d"


def test_no_secret_reaches_any_log(serve_app, settings, redis_server, fake_slack: FakeSlack,
                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # root: slack_sdk, slack_bolt, redis, urllib3, bot, index…
    for name in ("slack_sdk", "slack_bolt", "redis", "bot", "urllib3"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        redis = redis_server(password=REDIS_PASSWORD)
        served = serve_app(app_token=APP_TOKEN, redis_url=redis.url, user_salt="")
        salt = settings.salt_path.read_text().strip()
        # A REDIS_URL with a password that cannot be reached: the fail-open path logs too.
        unreachable = f"redis://:{REDIS_PASSWORD}@127.0.0.1:1/0"
        broken = serve_app(redis_url=unreachable, user_salt=USER_SALT,
                           db_path=settings.db_path.parent / "broken" / "certdesk.sqlite3")
        secrets = (BOT_TOKEN, SECRET, APP_TOKEN, USER_SALT, salt, REDIS_PASSWORD, redis.url, unreachable)

        # Normal requests on every surface.
        reply = served.command(QUESTION)
        assert NUMBER in text_of(reply)
        assert post_event(served, message_event(QUESTION, channel_id=DM, channel_type="im")) == 200
        assert post_event(broken, mention(QUESTION)) == 200
        fake_slack.wait_for("chat.postMessage", count=2)
        click = block_actions_body(SHARE_ACTION_ID, buttons(reply["blocks"])[SHARE_ACTION_ID],
                                   response_url=fake_slack.response_url("share"))
        assert served.post(click)[0] == 200
        feedback = block_actions_body(FEEDBACK_DOWN_ACTION_ID, buttons(reply["blocks"])[FEEDBACK_DOWN_ACTION_ID],
                                      response_url=fake_slack.response_url("feedback"))
        assert served.post(feedback)[0] == 200
        fake_slack.wait_for("response_url", count=3)

        # A failing Web API: 500s for ever, a 429, failing look-ups.
        fake_slack.fail_next("chat.postMessage", status=500, times=3)
        fake_slack.fail_next("users.info", status=500, times=10)
        fake_slack.fail_next("conversations.info", status=429, times=10)
        assert post_event(served, message_event(QUESTION, channel_id="D0FAIL", channel_type="im",
                                                user_id="U0SALES")) == 200
        fake_slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == "D0FAIL", count=3, timeout=10)
        fake_slack.fail_next("chat.postMessage", status=429, headers={"Retry-After": "1"})
        assert post_event(served, message_event(QUESTION, channel_id="D0LIMIT", channel_type="im")) == 200
        fake_slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == "D0LIMIT", count=2, timeout=10)

        # A badly signed request.
        assert served.post(slash_command_body("/cert", QUESTION), secret="not-the-secret")[0] == 401
        deadline = time.monotonic() + 5
        while "chat.postMessage to D0FAIL failed" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        for name in ("slack_sdk", "slack_bolt", "redis", "bot", "urllib3"):
            logging.getLogger(name).setLevel(logging.NOTSET)

    # The log did see all of it (positive controls), and no secret.
    logged = caplog.text + "\n".join(str(r.args) + str(r.exc_text) for r in caplog.records)
    for expected in ("chat.postMessage to D0FAIL failed", "HTTP 429", "treating it as shared",
                     "users.info for U0SALES failed", "Redis de-dup unavailable", "Invalid request signature"):
        assert expected in logged, expected
    leaked = [s for s in secrets if s in logged]
    assert not leaked, f"secrets in the log: {len(leaked)}"
