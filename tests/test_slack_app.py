"""The Slack app end to end over HTTP: real slack-bolt and slack-sdk, Slack faked on 127.0.0.1.

Requests reach `bot.server.wsgi_app` (what gunicorn serves) over a real socket, signed as
Slack signs them; every Web API call and response_url post lands on FakeSlack. Negative
checks ("nothing was posted") always follow a positive control, then wait a short bounded time.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest
from slackstub import (
    BOT_ID,
    BOT_USER_ID,
    CHANNEL_ID,
    USER_ID,
    FakeSlack,
    block_actions_body,
    event_body,
    message_event,
    slash_command_body,
    url_verification_body,
)
from slackstub.fixtures import fake_slack  # noqa: F401  (pytest fixture)
from slack_fixtures import *  # noqa: F401,F403  (pytest fixtures)
from slack_fixtures import QUIET, no_more
from slack_fixtures import BOT_TOKEN, SECRETS, Served, SlowEngine

from bot import answering
from bot.blocks import SHARE_ACTION_ID
from bot.surfaces import actions, slash
from index.answer import Answer, CertificateNumber, Result

QUESTION = "TRUCS certificate number for object storage"
NUMBER = "02016"
DM = "D0DM"


def text_of(blocks: list[dict[str, Any]]) -> str:
    """All the text of a message's blocks, as one string."""
    return json.dumps(blocks, ensure_ascii=False)


def share_value(blocks: list[dict[str, Any]]) -> str:
    (button,) = [e for b in blocks if b["type"] == "actions" for e in b["elements"]
                 if e.get("action_id") == SHARE_ACTION_ID]
    return button["value"]



@pytest.fixture
def served(serve_app) -> Served:
    return serve_app()


# --- slash command ---------------------------------------------------------------------------


def test_slash_command_answers_inline_and_ephemeral(served: Served, fake_slack: FakeSlack) -> None:
    started = time.monotonic()
    reply = served.command(QUESTION)
    assert time.monotonic() - started < 2.5  # well inside Slack's 3 s
    assert reply["response_type"] == "ephemeral"
    shown = text_of(reply["blocks"])
    assert f"*Q:* {QUESTION}" in shown  # restated: nobody else sees slash-command text
    assert NUMBER in shown and NUMBER in reply["text"]
    assert json.loads(share_value(reply["blocks"])) == {"q": QUESTION}
    assert fake_slack.calls("chat.postMessage") == [] and fake_slack.calls("response_url") == []


def test_slash_command_mentioning_payload_is_still_answered(served: Served) -> None:
    # Bolt 1.x parses any form body containing "payload" as interactivity and drops it;
    # bot/server.py repairs that without touching the signed raw body.
    reply = served.command(f"payload question: {QUESTION}")
    assert reply["response_type"] == "ephemeral"
    assert NUMBER in text_of(reply["blocks"])


@pytest.mark.parametrize("text", ["", "help", "  HELP "])
def test_slash_command_alone_or_help_shows_help(served: Served, text: str) -> None:
    reply = served.command(text)
    assert reply["response_type"] == "ephemeral"
    shown = text_of(reply["blocks"])
    assert "/cert TRUCS certificate number for object storage" in shown
    assert "*Q:*" not in shown


def test_slow_search_acks_at_once_then_answers_via_response_url(
        serve_app, slack_engine, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(slash, "ACK_BUDGET", 0.2)
    served = serve_app(engine=SlowEngine(slack_engine, delay=0.8))
    started = time.monotonic()
    reply = served.command(QUESTION, response_url=fake_slack.response_url("late"))
    assert time.monotonic() - started < 0.7
    assert reply == {"text": slash.LOOKING, "response_type": "ephemeral"}
    (late,) = fake_slack.wait_for("response_url", lambda c: c.path.endswith("/late"), timeout=5)
    assert late.params["response_type"] == "ephemeral"
    assert late.params["replace_original"] is True
    assert NUMBER in text_of(late.params["blocks"]) and f"*Q:* {QUESTION}" in text_of(late.params["blocks"])


# --- share button ------------------------------------------------------------------------------


def test_share_button_posts_in_channel_and_removes_the_ephemeral(served: Served, fake_slack: FakeSlack) -> None:
    value = share_value(served.command(QUESTION)["blocks"])
    url = fake_slack.response_url("share")
    click = block_actions_body(SHARE_ACTION_ID, value, user_id="U0SALES", response_url=url,
                               container={"type": "message", "message_ts": "1700000000.000200",
                                          "channel_id": CHANNEL_ID, "is_ephemeral": True})
    assert served.post(click)[0] == 200

    shared, deleted = fake_slack.wait_for("response_url", count=2)
    assert shared.params["response_type"] == "in_channel"
    assert shared.params["replace_original"] is False
    shown = text_of(shared.params["blocks"])
    assert "Shared by <@U0SALES>" in shown and NUMBER in shown and f"*Q:* {QUESTION}" in shown
    assert SHARE_ACTION_ID not in shown  # no share button on the public message
    assert deleted.params["delete_original"] is True and "response_type" not in deleted.params

    assert served.post(click)[0] == 200  # a double click shares nothing more
    no_more(fake_slack, "response_url", 2)


class FailsOnCall:
    """The real engine, except that one call (by number) fails: a search error mid-share."""

    def __init__(self, engine, failing_call: int) -> None:
        self.engine, self.failing_call, self.calls = engine, failing_call, 0

    def ask(self, question: str, *, audience: str = "internal"):
        self.calls += 1
        if self.calls == self.failing_call:
            raise RuntimeError("search failed")
        return self.engine.ask(question, audience=audience)

    def catalog(self, *, audience: str = "internal"):
        return self.engine.catalog(audience=audience)


def test_a_share_that_failed_can_be_clicked_again(serve_app, slack_engine, fake_slack: FakeSlack) -> None:
    # Call 1 answers the slash command, call 2 (the first share) fails: the click must be
    # released so that the user's next click shares, not ignored for the de-dup's lifetime.
    served = serve_app(engine=FailsOnCall(slack_engine, failing_call=2))
    value = share_value(served.command(QUESTION)["blocks"])
    click = block_actions_body(SHARE_ACTION_ID, value, user_id="U0SALES",
                               response_url=fake_slack.response_url("share"),
                               container={"type": "message", "message_ts": "1700000000.000300",
                                          "channel_id": CHANNEL_ID, "is_ephemeral": True})
    assert served.post(click)[0] == 200
    (sorry,) = fake_slack.wait_for("response_url")
    assert sorry.params["response_type"] == "ephemeral" and sorry.params["text"] == answering.SORRY

    assert served.post(click)[0] == 200
    shared, _deleted = fake_slack.wait_for("response_url", count=3)[1:]
    assert shared.params["response_type"] == "in_channel" and NUMBER in text_of(shared.params["blocks"])


@pytest.mark.parametrize("value", ["not json", '{"q": ""}', '["q"]', ""])
def test_share_button_with_a_malformed_value_answers_politely(served: Served, fake_slack: FakeSlack,
                                                              value: str) -> None:
    click = block_actions_body(SHARE_ACTION_ID, value, response_url=fake_slack.response_url("bad"))
    assert served.post(click)[0] == 200
    (said,) = fake_slack.wait_for("response_url")
    assert said.params["response_type"] == "ephemeral" and said.params["replace_original"] is False
    assert said.params["text"] == actions.BAD_BUTTON
    no_more(fake_slack, "response_url", 1)


# --- direct messages and mentions ---------------------------------------------------------------


def test_direct_message_is_answered_in_the_dm(served: Served, fake_slack: FakeSlack) -> None:
    assert served.event(message_event(QUESTION, channel_id=DM, channel_type="im")) == 200
    (posted,) = fake_slack.wait_for("chat.postMessage")
    assert posted.params["channel"] == DM and "thread_ts" not in posted.params
    assert posted.token == BOT_TOKEN
    assert NUMBER in text_of(posted.params["blocks"]) and NUMBER in posted.params["text"]


def test_direct_message_in_a_thread_is_answered_in_that_thread(served: Served, fake_slack: FakeSlack) -> None:
    event = message_event(QUESTION, channel_id=DM, channel_type="im", thread_ts="1700000001.000100")
    assert served.event(event) == 200
    (posted,) = fake_slack.wait_for("chat.postMessage")
    assert (posted.params["channel"], posted.params["thread_ts"]) == (DM, "1700000001.000100")


def test_mention_is_answered_in_a_thread_on_the_asking_message(served: Served, fake_slack: FakeSlack) -> None:
    mention = message_event(f"<@{BOT_USER_ID}> {QUESTION}", event_type="app_mention")
    assert served.event(mention) == 200
    (posted,) = fake_slack.wait_for("chat.postMessage")
    assert (posted.params["channel"], posted.params["thread_ts"]) == (CHANNEL_ID, mention["ts"])
    shown = text_of(posted.params["blocks"])
    assert NUMBER in shown
    assert f"*Q:* {QUESTION}" in shown  # our own mention is not restated


def test_mention_inside_a_thread_is_answered_in_that_thread(served: Served, fake_slack: FakeSlack) -> None:
    mention = message_event(f"<@{BOT_USER_ID}> {QUESTION}", event_type="app_mention",
                            thread_ts="1700000002.000100")
    assert served.event(mention) == 200
    (posted,) = fake_slack.wait_for("chat.postMessage")
    assert posted.params["thread_ts"] == "1700000002.000100"


def test_mention_with_help_alone_shows_help(served: Served, fake_slack: FakeSlack) -> None:
    assert served.event(message_event(f"<@{BOT_USER_ID}> help", event_type="app_mention")) == 200
    (posted,) = fake_slack.wait_for("chat.postMessage")
    assert "/cert TRUCS certificate number" in text_of(posted.params["blocks"])


# --- App Home ----------------------------------------------------------------------------------


def test_app_home_publishes_the_catalogue(served: Served, fake_slack: FakeSlack, slack_engine) -> None:
    messages_tab = {"type": "app_home_opened", "user": USER_ID, "channel": DM, "tab": "messages",
                    "event_ts": "1700000003.000100"}
    assert served.event(messages_tab) == 200
    assert served.event({**messages_tab, "tab": "home"}) == 200
    (published,) = fake_slack.wait_for("views.publish")
    assert published.params["user_id"] == USER_ID
    view = published.params["view"]
    assert view["type"] == "home"
    shown = text_of(view["blocks"])
    for name, _ in slack_engine.catalog():
        assert name.split(" (")[0] in shown
    assert "Trusted Cloud Services (TRUCS)" in shown
    no_more(fake_slack, "views.publish", 1)  # the messages tab published nothing


# --- what must not be answered ------------------------------------------------------------------


def test_own_other_bots_and_subtype_messages_are_ignored(served: Served, fake_slack: FakeSlack) -> None:
    ignored = [
        {**message_event(QUESTION, channel_id=DM, channel_type="im", user_id=BOT_USER_ID), "bot_id": BOT_ID},
        message_event(QUESTION, channel_id=DM, channel_type="im", user_id=BOT_USER_ID),
        {**message_event(QUESTION, channel_id=DM, channel_type="im", user_id="U0OTHERBOT"), "bot_id": "B0OTHER"},
        {**message_event(QUESTION, channel_id=DM, channel_type="im"), "subtype": "bot_message",
         "bot_id": "B0OTHER", "username": "some bot"},
        {**message_event(QUESTION, channel_id=DM, channel_type="im"), "subtype": "message_changed",
         "message": {"type": "message", "user": USER_ID, "text": QUESTION, "ts": "1700000000.000001"}},
        {**message_event(QUESTION, channel_id=DM, channel_type="im"), "subtype": "channel_join"},
        {**message_event("", channel_id=DM, channel_type="im"), "subtype": "message_deleted",
         "deleted_ts": "1700000000.000001"},
        {**message_event(f"<@{BOT_USER_ID}> {QUESTION}", event_type="app_mention"), "bot_id": "B0OTHER"},
        message_event(QUESTION, channel_id=CHANNEL_ID, channel_type="channel"),  # not a DM, no mention
    ]
    for event in ignored:
        assert served.event(event) == 200
    control = message_event("help", channel_id="D0CONTROL", channel_type="im")
    assert served.event(control) == 200
    (posted,) = fake_slack.wait_for("chat.postMessage")
    assert posted.params["channel"] == "D0CONTROL"
    no_more(fake_slack, "chat.postMessage", 1)


def test_a_redelivered_event_is_answered_once(served: Served, fake_slack: FakeSlack) -> None:
    event = message_event(QUESTION, channel_id=DM, channel_type="im")
    event_id = "Ev" + uuid.uuid4().hex[:10].upper()
    assert served.event(event, event_id=event_id) == 200
    fake_slack.wait_for("chat.postMessage")
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert served.event(event, event_id=event_id, headers=retry) == 200
    # The same message reaching us as another event (a DM that also mentions the bot).
    assert served.event({**event, "type": "app_mention"}) == 200
    no_more(fake_slack, "chat.postMessage", 1)


def test_unsigned_or_badly_signed_requests_are_refused(served: Served, fake_slack: FakeSlack) -> None:
    mention = message_event(f"<@{BOT_USER_ID}> {QUESTION}", event_type="app_mention")
    body = event_body(mention)
    unsigned = urllib.request.Request(served.url, data=body[0], method="POST",
                                      headers={"Content-Type": body[1]})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with pytest.raises(urllib.error.HTTPError) as refused:
        opener.open(unsigned, timeout=5)
    assert refused.value.code == 401
    refused.value.close()
    assert served.post(body, secret="not-the-secret")[0] == 401
    assert served.post(body, timestamp=int(time.time()) - 600)[0] == 401  # replayed: too old
    assert served.post(slash_command_body("/cert", QUESTION), secret="not-the-secret")[0] == 401
    # Control: the same event, properly signed, is answered — and only once.
    assert served.post(body)[0] == 200
    fake_slack.wait_for("chat.postMessage")
    no_more(fake_slack, "chat.postMessage", 1)


def test_url_verification_and_healthz(served: Served) -> None:
    status, _, body = served.post(url_verification_body("challenge-42"))
    assert (status, json.loads(body)) == (200, {"challenge": "challenge-42"})
    assert served.get("/healthz") == (200, b"ok\n")
    assert served.get("/nowhere")[0] == 404


# --- when Slack's Web API misbehaves ------------------------------------------------------------


def test_a_rate_limited_post_is_retried_and_the_answer_arrives(served: Served, fake_slack: FakeSlack,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bot")
    fake_slack.fail_next("chat.postMessage", status=429, headers={"Retry-After": "1"})
    assert served.event(message_event(QUESTION, channel_id=DM, channel_type="im")) == 200
    limited, delivered = fake_slack.wait_for("chat.postMessage", count=2, timeout=6)
    assert (limited.status, delivered.status) == (429, 200)
    assert delivered.time - limited.time >= 1.0  # Retry-After was honoured
    assert NUMBER in text_of(delivered.params["blocks"])
    assert "chat.postMessage: HTTP 429, retry 1" in caplog.text
    no_more(fake_slack, "chat.postMessage", 2)


def test_a_failing_web_api_is_logged_and_the_server_keeps_serving(
        served: Served, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    fake_slack.fail_next("chat.postMessage", status=500, times=10_000)  # 500 for ever
    assert served.event(message_event(QUESTION, channel_id=DM, channel_type="im")) == 200
    calls = fake_slack.wait_for("chat.postMessage", count=3, timeout=8)  # 1 + 2 retries
    assert all(c.status == 500 for c in calls)
    deadline = time.monotonic() + 5
    while "chat.postMessage to D0DM failed: fatal_error" not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "chat.postMessage to D0DM failed: fatal_error" in caplog.text
    assert not any(secret in caplog.text for secret in SECRETS)
    no_more(fake_slack, "chat.postMessage", 3)  # given up: no endless retrying

    # Still serving: the next requests are answered.
    assert NUMBER in text_of(served.command(QUESTION)["blocks"])
    assert served.get("/healthz")[0] == 200
    assert served.event(message_event("help", channel_id="D0NEXT", channel_type="im")) == 200
    fake_slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == "D0NEXT", timeout=8)


def test_a_post_that_timed_out_is_not_retried(serve_app, fake_slack: FakeSlack,
                                             monkeypatch: pytest.MonkeyPatch,
                                             caplog: pytest.LogCaptureFixture) -> None:
    """A read timeout may mean Slack posted it: better one answer missing than two."""
    import bot.app

    caplog.set_level(logging.WARNING, logger="bot")
    monkeypatch.setattr(bot.app, "API_TIMEOUT", 0.3)
    served = serve_app()
    fake_slack.delay("chat.postMessage", 1.0)
    assert served.event(message_event(QUESTION, channel_id=DM, channel_type="im")) == 200
    fake_slack.wait_for("chat.postMessage")
    deadline = time.monotonic() + 5
    while "chat.postMessage to D0DM failed" not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "chat.postMessage to D0DM failed: TimeoutError" in caplog.text
    no_more(fake_slack, "chat.postMessage", 1)


# --- who may see what ----------------------------------------------------------------------------


class AudienceRecordingEngine:
    """Answers from an internal document only when asked for the internal audience."""

    def __init__(self) -> None:
        self.audiences: list[str] = []

    def ask(self, question: str, *, audience: str = "internal") -> Answer:
        self.audiences.append(audience)
        if audience != "internal":
            return Answer(question=question, answered=False)
        internal = Result(certification="Internal Audit Memo", title="Memo", passage="Internal only.",
                          certificate_numbers=(CertificateNumber("Memo", "IM-7"),), visibility="internal")
        return Answer(question=question, answered=True, results=(internal,))

    def catalog(self, *, audience: str = "internal") -> list[tuple[str, str | None]]:
        return []


def test_internal_documents_never_reach_a_channel(serve_app, fake_slack: FakeSlack) -> None:
    engine = AudienceRecordingEngine()
    served = serve_app(engine=engine)
    reply = served.command("memo number")  # only the asker sees this: internal allowed, and said
    assert "IM-7" in text_of(reply["blocks"]) and "Includes internal documents" in text_of(reply["blocks"])

    click = block_actions_body(SHARE_ACTION_ID, share_value(reply["blocks"]),
                               response_url=fake_slack.response_url("share"))
    assert served.post(click)[0] == 200
    (refused,) = fake_slack.wait_for("response_url")
    assert refused.params["response_type"] == "ephemeral" and refused.params["text"] == actions.NOT_SHAREABLE

    assert served.event(message_event(f"<@{BOT_USER_ID}> memo number", event_type="app_mention")) == 200
    (posted,) = fake_slack.wait_for("chat.postMessage")
    assert "IM-7" not in text_of(posted.params["blocks"])
    assert engine.audiences == ["internal", "public", "public"]
    no_more(fake_slack, "response_url", 1)


# --- an index lost while serving ----------------------------------------------------------------


def test_an_index_lost_while_serving_is_rebuilt_and_answered_again(serve_app, corpus, fake_slack: FakeSlack) -> None:
    import shutil

    from index.build import build_index
    from index.search import LiveEngine

    build_index(corpus)
    live = LiveEngine.open(corpus)
    try:
        # What `certdesk serve` runs, on an index of its own; polling must not hit the rate limit.
        served = serve_app(engine=live, paths=corpus, rate_limit=1000)
        shutil.rmtree(corpus.index_dir)
        reply = served.command(QUESTION)
        assert reply["response_type"] == "ephemeral" and reply["text"] == answering.REBUILDING
        deadline = time.monotonic() + 60
        while answering.REBUILDING in json.dumps(reply := served.command(QUESTION)):
            assert time.monotonic() < deadline, "still rebuilding after 60 s"
            time.sleep(0.1)
        assert NUMBER in text_of(reply["blocks"]) and reply["response_type"] == "ephemeral"
        assert fake_slack.calls("response_url") == []   # every answer inline, none late or SORRY
    finally:
        live.close()


class RebuildingWhenTold:
    """The real engine, or IndexRebuilding while `rebuilding` is set: every surface's message."""

    def __init__(self, engine) -> None:
        self.engine, self.rebuilding = engine, False

    def ask(self, question: str, *, audience: str = "internal"):
        from index.search import IndexRebuilding

        if self.rebuilding:
            raise IndexRebuilding("rebuilding the index")
        return self.engine.ask(question, audience=audience)

    def catalog(self, *, audience: str = "internal"):
        return self.engine.catalog(audience=audience)


def test_every_surface_says_the_index_is_being_rebuilt(serve_app, slack_engine, fake_slack: FakeSlack) -> None:
    engine = RebuildingWhenTold(slack_engine)
    served = serve_app(engine=engine)
    value = share_value(served.command(QUESTION)["blocks"])   # answered before the loss
    engine.rebuilding = True

    assert served.command(QUESTION)["text"] == answering.REBUILDING
    assert served.event(message_event(QUESTION, channel_id=DM, channel_type="im")) == 200
    (dm,) = fake_slack.wait_for("chat.postMessage")
    assert (dm.params["channel"], dm.params["text"]) == (DM, answering.REBUILDING)
    mention = message_event(f"<@{BOT_USER_ID}> {QUESTION}", event_type="app_mention")
    assert served.event(mention) == 200
    _, thread = fake_slack.wait_for("chat.postMessage", count=2)
    assert (thread.params["thread_ts"], thread.params["text"]) == (mention["ts"], answering.REBUILDING)

    click = block_actions_body(SHARE_ACTION_ID, value, response_url=fake_slack.response_url("share"),
                               container={"type": "message", "message_ts": "1700000000.000400",
                                          "channel_id": CHANNEL_ID, "is_ephemeral": True})
    assert served.post(click)[0] == 200
    (said,) = fake_slack.wait_for("response_url")
    assert said.params["response_type"] == "ephemeral" and said.params["text"] == answering.REBUILDING
    engine.rebuilding = False                  # rebuilt: the same click now shares
    assert served.post(click)[0] == 200
    shared, _deleted = fake_slack.wait_for("response_url", count=3)[1:]
    assert shared.params["response_type"] == "in_channel" and NUMBER in text_of(shared.params["blocks"])


# --- the operator's log -------------------------------------------------------------------------


def test_each_question_is_one_request_log_line_without_identity(served: Served, fake_slack: FakeSlack,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="certdesk.requests")
    served.command(QUESTION)
    assert served.event(message_event(f"<@{BOT_USER_ID}> {QUESTION}", event_type="app_mention")) == 200
    fake_slack.wait_for("chat.postMessage")
    lines = [r for r in caplog.records if r.name == "certdesk.requests"]
    assert [r.certdesk["surface"] for r in lines] == ["slash", "mention"]
    for record in lines:
        fields = record.certdesk
        assert fields["answered"] is True and fields["outcome"] == "answered"
        assert fields["top"] == "Trusted Cloud Services (TRUCS)" and fields["latency_ms"] >= 0
        assert fields["team"] and fields["user"] and fields["user"] != USER_ID
    text = caplog.text
    assert USER_ID not in text and QUESTION not in text
    assert not any(secret in text for secret in SECRETS)


def test_json_log_lines_carry_the_request_fields() -> None:
    from bot.requestlog import JsonFormatter, log_question

    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("certdesk.requests")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        log_question(surface="dm", answered=False, top=None, latency_ms=3.4, team="T1", user_hash="ab12")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    entry = json.loads(JsonFormatter().format(records[0]))
    assert {k: entry[k] for k in ("level", "logger", "surface", "answered", "top", "latency_ms", "team",
                                  "user")} == {"level": "INFO", "logger": "certdesk.requests", "surface": "dm",
                                               "answered": False, "top": None, "latency_ms": 3,
                                               "team": "T1", "user": "ab12"}
    assert entry["message"].startswith("question surface=dm")


def test_requests_leave_the_certdesk_loggers_to_inherit_their_level(served: Served) -> None:
    # Bolt, given no logger, copies the root level onto the app's "certdesk" logger on every
    # request; certdesk.requests would then stay at that level whatever serving set up later.
    served.command(QUESTION)
    assert logging.getLogger("certdesk").level == logging.NOTSET
    assert not logging.getLogger("certdesk").disabled
