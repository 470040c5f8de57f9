"""The "Ask certdesk" message shortcut, end to end: the real Bolt app over signed HTTP, Slack faked.

Someone uses the shortcut on a message (a customer's question in a shared channel, say); the
answer goes to them alone, with Share in channel, through the same policy, rate limit and
question log as every surface. Every negative check follows a positive control.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import yaml
from slackstub import (
    BOT_USER_ID,
    CHANNEL_ID,
    TEAM_ID,
    USER_ID,
    FakeSlack,
    block_actions_body,
    message_action_body,
)
from slackstub.fixtures import fake_slack  # noqa: F401  (pytest fixture)
from slack_fixtures import *  # noqa: F401,F403  (pytest fixtures)
from slack_fixtures import QUIET, buttons, no_more, text_of
from slack_fixtures import ROOT, SHARED_CHANNEL, Served, internal_channel, own_user

from bot.blocks import HANDOFF_ACTION_ID, SHARE_ACTION_ID
from bot.messagetext import plain_text
from bot.policy import OUTSIDE_NOTICE, REFUSAL, SHARED_NOTICE
from bot.surfaces import shortcut
from index.answer import Answer, CertificateNumber, Result

QUESTION = "TRUCS certificate number for object storage"
NUMBER = "02016"
CUSTOMER = "U0CUSTOMER"





def customer_message(text: str, ts: str = "1700000050.000100", **fields: Any) -> dict[str, Any]:
    """A customer's message as a message_action payload carries it."""
    return {"type": "message", "user": CUSTOMER, "ts": ts, "text": text, "team": "T0CUSTOMER", **fields}


def use_shortcut(served: Served, message: dict[str, Any], name: str = "shortcut", **fields: Any) -> None:
    body = message_action_body(shortcut.CALLBACK_ID, message,
                               response_url=served.slack.response_url(name), **fields)
    status, _, reply = served.post(body)
    assert status == 200 and not reply   # acked at once, with nothing shown in the channel


def private_reply(slack: FakeSlack, name: str = "shortcut") -> dict[str, Any]:
    (call,) = slack.wait_for("response_url", lambda c: c.path.endswith("/" + name), timeout=10)
    assert call.params["response_type"] == "ephemeral"
    return call.params


class RecordingEngine:
    """Quotes an internal memo only for the internal audience; records every question."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    def ask(self, question: str, *, audience: str = "internal") -> Answer:
        self.asked.append((question, audience))
        public = Result(certification="Public Cert", title="Public doc", passage="Public passage.",
                        certificate_numbers=(CertificateNumber("Cert", "PUB-1"),), visibility="public")
        memo = Result(certification="Internal Audit Memo", title="Memo", passage="Internal only.",
                      certificate_numbers=(CertificateNumber("Memo", "IM-7"),), visibility="internal")
        return Answer(question=question, answered=True,
                      results=(memo, public) if audience == "internal" else (public,))

    def catalog(self, *, audience: str = "internal") -> list[tuple[str, str | None]]:
        return []


@pytest.fixture
def served(serve_app) -> Served:
    return serve_app()


# --- answering ----------------------------------------------------------------------------------


def test_the_shortcut_answers_the_message_privately_with_a_share_button(served: Served,
                                                                       fake_slack: FakeSlack) -> None:
    use_shortcut(served, customer_message(f"Hi <@{BOT_USER_ID}>! *{QUESTION}*?"))
    reply = private_reply(fake_slack)
    shown = text_of(reply)
    assert NUMBER in shown and f"*Q:* Hi ! {QUESTION}?" in shown   # the text a person reads
    assert json.loads(buttons(reply["blocks"])[SHARE_ACTION_ID]) == {"q": f"Hi ! {QUESTION}?"}
    assert reply["unfurl_links"] is False
    no_more(fake_slack, "chat.postMessage", 0)          # nothing for everyone
    assert fake_slack.calls("chat.postEphemeral") == []


def test_share_from_the_shortcuts_answer_posts_it_in_the_channel(served: Served, fake_slack: FakeSlack) -> None:
    use_shortcut(served, customer_message(QUESTION))
    value = buttons(private_reply(fake_slack)["blocks"])[SHARE_ACTION_ID]
    click = block_actions_body(SHARE_ACTION_ID, value, response_url=fake_slack.response_url("share"),
                               container={"type": "message", "message_ts": "1700000051.000100",
                                          "channel_id": CHANNEL_ID, "is_ephemeral": True})
    assert served.post(click)[0] == 200
    shared, _deleted = fake_slack.wait_for("response_url", lambda c: c.path.endswith("/share"), count=2)
    assert shared.params["response_type"] == "in_channel" and NUMBER in text_of(shared.params)
    assert f"Shared by <@{USER_ID}>" in text_of(shared.params)


def test_in_a_shared_channel_or_for_an_outsider_public_documents_only(serve_app, fake_slack: FakeSlack) -> None:
    engine = RecordingEngine()
    served = serve_app(engine=engine)
    use_shortcut(served, customer_message("memo number"), "inside")              # control
    inside = private_reply(fake_slack, "inside")
    assert "IM-7" in text_of(inside) and SHARE_ACTION_ID in buttons(inside["blocks"])

    use_shortcut(served, customer_message("memo number"), "shared", channel_id=SHARED_CHANNEL)
    shared = private_reply(fake_slack, "shared")
    assert "IM-7" not in text_of(shared) and "PUB-1" in text_of(shared) and SHARED_NOTICE in text_of(shared)

    fake_slack.users["U0GUEST"] = own_user("U0GUEST", team_id="T0CUSTOMER")
    use_shortcut(served, customer_message("memo number"), "outsider", user_id="U0GUEST")
    outsider = private_reply(fake_slack, "outsider")
    assert "IM-7" not in text_of(outsider) and OUTSIDE_NOTICE in text_of(outsider)
    assert [audience for _, audience in engine.asked] == ["internal", "public", "public"]


@pytest.mark.parametrize("message, expected", [
    (customer_message(""), shortcut.NO_TEXT),
    (customer_message(f"<@{BOT_USER_ID}> <!here>"), shortcut.NO_TEXT),
    (customer_message("", files=[{"id": "F0FILE", "name": "questionnaire.xlsx"}]), shortcut.ONLY_ATTACHMENTS),
    (customer_message("", attachments=[{"fallback": "a card", "id": 1}]), shortcut.ONLY_ATTACHMENTS),
])
def test_a_message_without_text_is_said_so_plainly(serve_app, fake_slack: FakeSlack,
                                                   message: dict[str, Any], expected: str) -> None:
    engine = RecordingEngine()
    served = serve_app(engine=engine)
    use_shortcut(served, message)
    assert private_reply(fake_slack)["text"] == expected.format(command="/cert")
    assert engine.asked == []
    use_shortcut(served, customer_message("memo number"), "control")
    assert "IM-7" in text_of(private_reply(fake_slack, "control"))


def test_rate_limit_allow_list_and_question_log_apply(serve_app, fake_slack: FakeSlack) -> None:
    engine = RecordingEngine()
    served = serve_app(engine=engine, rate_limit=1, allowed_teams=frozenset({TEAM_ID}))
    use_shortcut(served, customer_message("memo number"), "first")
    assert "IM-7" in text_of(private_reply(fake_slack, "first"))
    use_shortcut(served, customer_message("another question"), "limited")
    assert "asked a lot of questions" in private_reply(fake_slack, "limited")["text"]
    fake_slack.users["U0ELSE"] = own_user("U0ELSE", team_id="T0OTHER")
    use_shortcut(served, customer_message("memo number"), "other", user_id="U0ELSE", team_id="T0OTHER")
    assert private_reply(fake_slack, "other")["text"] == REFUSAL
    assert engine.asked == [("memo number", "internal")]

    with sqlite3.connect(Path(served.settings.db_path)) as conn:
        rows = conn.execute("SELECT question, channel_type, answered FROM questions").fetchall()
    assert rows == [("memo number", shortcut.SHORTCUT, 1)]


# --- delivery when the response_url will not take it -------------------------------------------


def test_falls_back_to_an_ephemeral_post_then_to_a_dm(served: Served, fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("response_url", status=404, body="expired_url")
    use_shortcut(served, customer_message(QUESTION))
    (ephemeral,) = fake_slack.wait_for("chat.postEphemeral")
    assert (ephemeral.params["channel"], ephemeral.params["user"]) == (CHANNEL_ID, USER_ID)
    assert NUMBER in text_of(ephemeral.params)
    no_more(fake_slack, "chat.postMessage", 0)

    fake_slack.fail_next("response_url", status=404, body="expired_url")
    fake_slack.fail_next("chat.postEphemeral", status=200, body={"ok": False, "error": "channel_not_found"})
    use_shortcut(served, customer_message(QUESTION), "again")
    (dm,) = fake_slack.wait_for("chat.postMessage")
    assert dm.params["channel"] == USER_ID and NUMBER in text_of(dm.params)
    assert f"I couldn't answer you privately in <#{CHANNEL_ID}>" in text_of(dm.params)


# --- hand-off from the shortcut's answer --------------------------------------------------------


def test_ask_compliance_on_the_shortcuts_answer_links_the_customers_message(
        serve_app, workspace: FakeSlack, fake_slack: FakeSlack) -> None:
    workspace.channels["C0ESC"] = internal_channel("C0ESC")
    served = serve_app(escalation_channel="C0ESC")
    use_shortcut(served, customer_message(QUESTION, ts="1700000060.000200"), channel_id=SHARED_CHANNEL)
    reply = private_reply(fake_slack)
    value = buttons(reply["blocks"])[HANDOFF_ACTION_ID]
    assert json.loads(value)["m"] == "1700000060.000200"
    click = block_actions_body(HANDOFF_ACTION_ID, value, channel_id=SHARED_CHANNEL,
                               response_url=fake_slack.response_url("handoff"),
                               container={"type": "message", "message_ts": "1700000061.000100",
                                          "channel_id": SHARED_CHANNEL, "is_ephemeral": True})
    assert served.post(click)[0] == 200
    (post,) = fake_slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == "C0ESC")
    (lookup,) = fake_slack.calls("chat.getPermalink")
    assert lookup.params == {"channel": SHARED_CHANNEL, "message_ts": "1700000060.000200"}
    link = f"https://certdesk-test.slack.com/archives/{SHARED_CHANNEL}/p1700000060000200"
    assert f"From <@{USER_ID}> in <#{SHARED_CHANNEL}> (<{link}|view the message>)" in text_of(post.params)
    assert CUSTOMER not in text_of(post.params)        # the customer is linked to, never pinged
    no_more(fake_slack, "chat.postMessage", 1)          # nothing in the shared channel


# --- the message's text and the manifest ---------------------------------------------------------


@pytest.mark.parametrize("text, question", [
    (f"<@{BOT_USER_ID}> *Are* we _SOC 2_ ~certified~?", "Are we SOC 2 certified?"),
    ("&gt; do you have ISO 27001? &lt;3 &amp; thanks", "do you have ISO 27001? <3 & thanks"),
    ("see <https://x.example/a|our page> and <https://y.example> in <#C1|deals> <!here>",
     "see our page and https://y.example in #deals"),
    ("```PCI DSS level``` for `snake_case_word`", "PCI DSS level for snake_case_word"),
    ("<!date^1392734382^{date}|Feb 18, 2014> audit? <!subteam^S1|@compliance>", "Feb 18, 2014 audit?"),
    ("2*3 = 6 and a_b", "2*3 = 6 and a_b"),
    ("<@U1>\n\n", ""),
])
def test_slack_markup_becomes_the_words_a_person_reads(text: str, question: str) -> None:
    assert plain_text(text) == question


def test_the_manifest_declares_the_shortcut_and_its_scope() -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))
    (declared,) = [s for s in manifest["features"]["shortcuts"] if s["callback_id"] == shortcut.CALLBACK_ID]
    assert declared["type"] == "message" and declared["name"] == "Ask certdesk"
    assert len(declared["name"]) <= 24 and len(declared["description"]) <= 80   # Slack's limits
    scopes = manifest["oauth_config"]["scopes"]["bot"]
    assert {"commands", "chat:write"} <= set(scopes)        # shortcuts need `commands`; posting `chat:write`
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
