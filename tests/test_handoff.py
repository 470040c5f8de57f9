"""The "Ask compliance" button, end to end: the real Bolt app over signed HTTP, Slack faked.

An answer carries the button only when CERTDESK_ESCALATION_CHANNEL is set; a click posts the
question, the asker, where it was asked and certdesk's top certification in that channel
(tagging CERTDESK_ESCALATION_GROUP), and tells the clicker alone. Every negative check
follows a positive control.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from typing import Any

import pytest
from slackstub import (
    BOT_USER_ID,
    CHANNEL_ID,
    TEAM_ID,
    USER_ID,
    FakeSlack,
    block_actions_body,
    message_event,
)
from slackstub.fixtures import fake_slack  # noqa: F401  (pytest fixture)
from slack_fixtures import *  # noqa: F401,F403  (pytest fixtures)
from slack_fixtures import QUIET, buttons, no_more, text_of
from slack_fixtures import DM, SHARED_CHANNEL, Served, internal_channel, own_user, shared_channel

from bot.blocks import HANDOFF_ACTION_ID, SHARE_ACTION_ID, render_answer, render_escalation
from bot.policy import REFUSAL
from bot.settings import Escalation, Settings, SettingsError
from bot.surfaces import actions, handoff
from index.answer import Answer, CertificateNumber, Result

QUESTION = "TRUCS certificate number for object storage"
NUMBER = "02016"
TRUCS = "Trusted Cloud Services (TRUCS)"
ESCALATION = "C0ESC"
GROUP = "S0COMP"





def ephemeral_container(ts: str, channel: str = CHANNEL_ID) -> dict[str, Any]:
    """Where a button on a private answer (/cert, the shortcut's reply) is clicked."""
    return {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": True}


def click(served: Served, value: str, name: str, *, channel: str = CHANNEL_ID,
          container: dict[str, Any] | None = None, **fields: Any) -> None:
    body = block_actions_body(HANDOFF_ACTION_ID, value, channel_id=channel,
                              response_url=served.slack.response_url(name),
                              container=container or ephemeral_container("1700000100.000100", channel),
                              **fields)
    assert served.post(body)[0] == 200


def said(slack: FakeSlack, name: str) -> dict[str, Any]:
    """What the clicker was told through response_url `name` (ephemeral, answer kept)."""
    (call,) = slack.wait_for("response_url", lambda c: c.path.endswith("/" + name))
    assert call.params["response_type"] == "ephemeral" and call.params["replace_original"] is False
    return call.params


def click_until_sent(served: Served, value: str, within: float = 5.0) -> None:
    """Click until the clicker is told it was sent (an event processed in the background may
    have to land first), within `within` seconds."""
    deadline = time.monotonic() + within
    for attempt in itertools.count():
        click(served, value, f"retry{attempt}")
        told = said(served.slack, f"retry{attempt}")["text"]
        if told.startswith("Sent to compliance"):
            return
        assert time.monotonic() < deadline, told
        time.sleep(0.1)


def escalations(slack: FakeSlack, count: int = 1) -> list[dict[str, Any]]:
    posts = slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == ESCALATION, count=count)
    return [c.params for c in posts]


@pytest.fixture
def escalation_channel(workspace: FakeSlack) -> str:
    workspace.channels[ESCALATION] = internal_channel(ESCALATION)
    return ESCALATION


@pytest.fixture
def served(serve_app, escalation_channel: str) -> Served:
    return serve_app(escalation_channel=escalation_channel, escalation_group=GROUP)


# --- the button ---------------------------------------------------------------------------------


def test_ask_compliance_posts_the_question_asker_and_top_certification(served: Served,
                                                                        fake_slack: FakeSlack) -> None:
    reply = served.answer(QUESTION)
    value = buttons(reply["blocks"])[HANDOFF_ACTION_ID]
    assert NUMBER in text_of(reply) and SHARE_ACTION_ID in buttons(reply["blocks"])
    click(served, value, "handoff")

    (post,) = escalations(fake_slack)
    shown = text_of(post)
    assert f"<!subteam^{GROUP}>" in post["text"]             # the group is notified
    assert f"&gt;{QUESTION}" not in shown and f">{QUESTION}" in shown   # the question, quoted
    assert f"From <@{USER_ID}> privately in <#{CHANNEL_ID}>" in shown  # a /cert answer: no message
    assert f"certdesk's top answer: *{TRUCS}*" in shown
    assert NUMBER not in shown                                # names the certification, quotes nothing
    assert post["unfurl_links"] is False
    told = said(fake_slack, "handoff")
    assert told["text"] == f"Sent to compliance in <#{ESCALATION}>. They will follow up with you."
    assert fake_slack.calls("chat.getPermalink") == []       # nothing to link for an ephemeral answer
    no_more(fake_slack, "chat.postMessage", 1)


def test_without_an_escalation_channel_no_answer_has_the_button(serve_app, escalation_channel: str,
                                                                fake_slack: FakeSlack) -> None:
    with_it = serve_app(escalation_channel=escalation_channel)
    assert HANDOFF_ACTION_ID in buttons(with_it.answer(QUESTION)["blocks"])      # control
    without = serve_app()
    reply = without.answer(QUESTION)
    assert NUMBER in text_of(reply) and HANDOFF_ACTION_ID not in buttons(reply["blocks"])
    assert without.event(message_event(QUESTION, channel_id=DM, channel_type="im")) == 200
    (dm,) = fake_slack.wait_for("chat.postMessage")
    assert NUMBER in text_of(dm.params) and HANDOFF_ACTION_ID not in text_of(dm.params)

    # A button from before the setting was removed: said plainly, nothing posted.
    click(without, json.dumps({"q": QUESTION}), "stale")
    assert said(fake_slack, "stale")["text"] == handoff.NOT_SET_UP
    no_more(fake_slack, "chat.postMessage", 1)


def test_a_double_click_posts_once_and_says_it_was_sent(served: Served, fake_slack: FakeSlack) -> None:
    value = buttons(served.answer(QUESTION)["blocks"])[HANDOFF_ACTION_ID]
    click(served, value, "first")
    escalations(fake_slack)
    assert said(fake_slack, "first")["text"].startswith("Sent to compliance")
    click(served, value, "second")
    assert said(fake_slack, "second")["text"] == f"This question was already sent to compliance in <#{ESCALATION}>."
    no_more(fake_slack, "chat.postMessage", 1)


def test_an_unanswered_question_can_be_handed_off_too(served: Served, fake_slack: FakeSlack) -> None:
    reply = served.answer("zyxwv quorbleflax frobnication")
    assert "Nothing in the certification documents answers" in text_of(reply)
    value = buttons(reply["blocks"])[HANDOFF_ACTION_ID]
    assert SHARE_ACTION_ID not in buttons(reply["blocks"])     # nothing to share, but someone to ask
    click(served, value, "handoff")
    (post,) = escalations(fake_slack)
    assert "certdesk: no answer" in text_of(post) and "zyxwv quorbleflax frobnication" in text_of(post)


def test_a_mention_in_an_internal_channel_links_its_thread(served: Served, fake_slack: FakeSlack) -> None:
    assert served.event(message_event(f"<@{BOT_USER_ID}> {QUESTION}", event_type="app_mention")) == 200
    (answer,) = fake_slack.wait_for("chat.postMessage")
    value = buttons(answer.params["blocks"])[HANDOFF_ACTION_ID]
    answer_ts = "1700000000.000100"   # the thread reply the button is on: a real message
    click(served, value, "handoff", user_id="U0SALES",
          container={"type": "message", "message_ts": answer_ts, "channel_id": CHANNEL_ID,
                     "is_ephemeral": False})
    (post,) = escalations(fake_slack)
    (lookup,) = fake_slack.calls("chat.getPermalink")
    assert (lookup.params["channel"], lookup.params["message_ts"]) == (CHANNEL_ID, answer_ts)
    link = f"https://certdesk-test.slack.com/archives/{CHANNEL_ID}/p1700000000000100"
    assert f"From <@U0SALES> in <#{CHANNEL_ID}> (<{link}|view the message>)" in text_of(post)


def test_a_permalink_slack_will_not_give_names_the_channel(served: Served, fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("chat.getPermalink", status=200, body={"ok": False, "error": "message_not_found"})
    click(served, json.dumps({"q": QUESTION, "top": None, "m": None}), "handoff",
          container={"type": "message", "message_ts": "1700000000.000900", "channel_id": CHANNEL_ID,
                     "is_ephemeral": False})
    (post,) = escalations(fake_slack)
    assert f"From <@{USER_ID}> in <#{CHANNEL_ID}>" in text_of(post) and "view the message" not in text_of(post)
    assert fake_slack.calls("chat.getPermalink")   # it was asked


def test_a_dm_answer_is_handed_off_without_a_link_nobody_could_open(served: Served,
                                                                    fake_slack: FakeSlack) -> None:
    assert served.event(message_event(QUESTION, channel_id=DM, channel_type="im")) == 200
    (answer,) = fake_slack.wait_for("chat.postMessage")
    click(served, buttons(answer.params["blocks"])[HANDOFF_ACTION_ID], "handoff", channel=DM,
          container={"type": "message", "message_ts": "1700000000.000100", "channel_id": DM,
                     "is_ephemeral": False})
    (post,) = escalations(fake_slack)
    assert f"From <@{USER_ID}> in a direct message" in text_of(post)
    assert fake_slack.calls("chat.getPermalink") == []


# --- shared channels and outsiders ----------------------------------------------------------------


def test_a_mention_answer_in_a_shared_channel_has_no_button(served: Served, fake_slack: FakeSlack) -> None:
    inside = message_event(f"<@{BOT_USER_ID}> {QUESTION}", event_type="app_mention")
    assert served.event(inside) == 200
    (control,) = fake_slack.wait_for("chat.postMessage")
    assert HANDOFF_ACTION_ID in buttons(control.params["blocks"])
    shared = message_event(f"<@{BOT_USER_ID}> {QUESTION}", event_type="app_mention", channel_id=SHARED_CHANNEL)
    assert served.event(shared) == 200
    (_, posted) = fake_slack.wait_for("chat.postMessage", count=2)
    assert posted.params["channel"] == SHARED_CHANNEL and NUMBER in text_of(posted.params)
    assert HANDOFF_ACTION_ID not in buttons(posted.params["blocks"])   # customers read this thread


def test_a_click_in_a_shared_channel_shows_the_customer_nothing(served: Served, fake_slack: FakeSlack) -> None:
    reply = served.answer(QUESTION, channel_id=SHARED_CHANNEL)     # our salesperson's /cert, private
    click(served, buttons(reply["blocks"])[HANDOFF_ACTION_ID], "handoff", channel=SHARED_CHANNEL,
          container=ephemeral_container("1700000100.000200", SHARED_CHANNEL))
    (post,) = escalations(fake_slack)
    assert f"privately in <#{SHARED_CHANNEL}>" in text_of(post)
    assert said(fake_slack, "handoff")["text"].startswith("Sent to compliance")
    no_more(fake_slack, "chat.postMessage", 1)                       # only the escalation
    assert fake_slack.calls("chat.postEphemeral") == []
    assert all(c.params.get("response_type") == "ephemeral" for c in fake_slack.calls("response_url"))


def test_an_internal_answer_handed_off_quotes_none_of_it(serve_app, escalation_channel: str,
                                                        fake_slack: FakeSlack) -> None:
    class InternalMemo:
        def ask(self, question: str, *, audience: str = "internal") -> Answer:
            memo = Result(certification="Internal Audit Memo", title="Memo", passage="Secret passage.",
                          certificate_numbers=(CertificateNumber("Memo", "IM-7"),), visibility="internal")
            return Answer(question=question, answered=True, results=(memo,))

        def catalog(self, *, audience: str = "internal") -> list[tuple[str, str | None]]:
            return []

    served = serve_app(engine=InternalMemo(), escalation_channel=escalation_channel)
    reply = served.answer("memo number")
    assert "Secret passage." in text_of(reply)                      # the asker's own, private answer
    click(served, buttons(reply["blocks"])[HANDOFF_ACTION_ID], "handoff")
    (post,) = escalations(fake_slack)
    assert "Internal Audit Memo" in text_of(post)
    assert "Secret passage." not in text_of(post) and "IM-7" not in text_of(post)


@pytest.mark.parametrize("who", ["customer", "stranger"])
def test_outsiders_get_no_button_and_cannot_page_compliance(served: Served, fake_slack: FakeSlack,
                                                            who: str) -> None:
    fake_slack.users["U0CUSTOMER"] = own_user("U0CUSTOMER", team_id="T0CUSTOMER")
    fake_slack.users["U0STRANGER"] = own_user("U0STRANGER", is_stranger=True)
    outsider = {"customer": "U0CUSTOMER", "stranger": "U0STRANGER"}[who]
    assert HANDOFF_ACTION_ID in buttons(served.answer(QUESTION)["blocks"])         # control: ours
    reply = served.answer(QUESTION, user_id=outsider)
    assert NUMBER in text_of(reply) and HANDOFF_ACTION_ID not in buttons(reply["blocks"])
    click(served, json.dumps({"q": QUESTION}), "outsider", user_id=outsider)
    assert said(fake_slack, "outsider")["text"] == handoff.STAFF_ONLY
    click(served, json.dumps({"q": QUESTION}), "ours")                                # control
    escalations(fake_slack)
    no_more(fake_slack, "chat.postMessage", 1)


def test_other_workspaces_and_the_rate_limit_stop_a_hand_off(serve_app, escalation_channel: str,
                                                             fake_slack: FakeSlack) -> None:
    served = serve_app(escalation_channel=escalation_channel, allowed_teams=frozenset({TEAM_ID}),
                       rate_limit=1)
    fake_slack.users["U0ELSE"] = own_user("U0ELSE", team_id="T0OTHER")
    click(served, json.dumps({"q": QUESTION}), "other", user_id="U0ELSE", team_id="T0OTHER")
    assert said(fake_slack, "other")["text"] == REFUSAL
    click(served, json.dumps({"q": QUESTION}), "first", container=ephemeral_container("1700000100.000301"))
    escalations(fake_slack)
    click(served, json.dumps({"q": "another"}), "limited", container=ephemeral_container("1700000100.000302"))
    assert "asked a lot of questions" in said(fake_slack, "limited")["text"]
    no_more(fake_slack, "chat.postMessage", 1)


@pytest.mark.parametrize("value", ["not json", '{"q": ""}', '["q"]', ""])
def test_a_malformed_button_is_answered_politely(served: Served, fake_slack: FakeSlack, value: str) -> None:
    click(served, value, "bad")
    assert said(fake_slack, "bad")["text"] == actions.BAD_BUTTON
    no_more(fake_slack, "chat.postMessage", 0)


# --- when the escalation channel will not take it ------------------------------------------------


@pytest.mark.parametrize("failure, advice", [
    ("not_in_channel", "I am not a member of <#C0ESC>. Add me there (type /invite @certdesk"),
    ("channel_not_found", "If it is private, add me to it"),
    ("is_archived", "<#C0ESC> is archived"),
    ("shared", "<#C0ESC> is shared with another organisation"),
    ("ratelimited", "Slack said: ratelimited"),
])
def test_a_failed_hand_off_says_what_to_do_keeps_the_question_and_can_be_retried(
        served: Served, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture,
        failure: str, advice: str) -> None:
    caplog.set_level(logging.WARNING, logger="bot")
    question = "Do we have <!channel> a SOC 2 Type II report?"
    if failure == "shared":
        fake_slack.channels[ESCALATION] = shared_channel(ESCALATION)
    elif failure == "channel_not_found":   # private, without us: conversations.info cannot see it
        del fake_slack.channels[ESCALATION]
    elif failure == "ratelimited":
        fake_slack.fail_next("chat.postMessage", status=429, headers={"Retry-After": "60"})
    else:
        fake_slack.fail_next("chat.postMessage", status=200, body={"ok": False, "error": failure})
    click(served, json.dumps({"q": question}), "failed")
    told = said(fake_slack, "failed")
    assert advice in told["text"]
    assert "\n>Do we have &lt;!channel&gt; a SOC 2 Type II report?" in told["text"]   # quoted, to copy
    assert f"hand-off to {ESCALATION} failed ({failure})" in caplog.text and question in caplog.text
    assert USER_ID not in caplog.text
    if failure in ("shared", "channel_not_found"):
        assert fake_slack.calls("chat.postMessage") == []   # never posted where it must not go

    # Fixed: the same click goes through (the failed one was not recorded as sent).
    fake_slack.channels[ESCALATION] = internal_channel(ESCALATION)
    if failure == "shared":   # what certdesk knew of the channel is forgotten when it changes
        assert served.event({"type": "channel_unshared", "channel": ESCALATION,
                             "event_ts": f"{time.time():.6f}"}) == 200
    click_until_sent(served, json.dumps({"q": question}))
    tried = 0 if failure in ("shared", "channel_not_found") else 1      # the refused post, then this
    post = escalations(fake_slack, count=tried + 1)[-1]
    no_more(fake_slack, "chat.postMessage", tried + 1)
    assert "&lt;!channel&gt;" in text_of(post) and "<!channel>" not in text_of(post)


# --- rendering ----------------------------------------------------------------------------------


def test_the_escalation_escapes_the_question_and_checks_every_id() -> None:
    message = render_escalation(question="<!channel> are we <@U999> SOC 2?\nsecond line", asker="U0USER",
                                top="A <b> & C", channel=CHANNEL_ID,
                                permalink="https://x.slack.com/archives/C0CHAN/p1", group=GROUP)
    shown = json.dumps(message.blocks)
    assert "&lt;!channel&gt; are we &lt;@U999&gt; SOC 2? second line" in shown
    assert "A &lt;b&gt; &amp; C" in shown and "<!subteam^S0COMP>" in message.text
    forged = render_escalation(question="q", asker="U1|x> <!channel", top=None, channel="C1> <!here",
                               permalink="https://x|y> <!here>", group="S1> <!everyone")
    everything = json.dumps(forged.blocks) + forged.text
    assert "<!" not in everything and "<@" not in everything and "<#" not in everything
    assert "From someone in a conversation I could not name" in everything
    assert "certdesk: no answer" in everything


def test_a_long_question_still_fits_the_button() -> None:
    answer = Answer(question="word " * 1000, answered=False)
    (button,) = [e for b in render_answer(answer, handoff=True, about_ts="1.2").blocks
                 if b["type"] == "actions" for e in b["elements"]]
    assert len(button["value"]) <= 2000
    data = json.loads(button["value"])
    assert data["m"] == "1.2" and data["top"] is None and data["q"].startswith("word word")


# --- settings -----------------------------------------------------------------------------------


def test_escalation_settings() -> None:
    assert Settings.from_env({}).escalation is None
    settings = Settings.from_env({"CERTDESK_ESCALATION_CHANNEL": " C0123ABCD ",
                                  "CERTDESK_ESCALATION_GROUP": "S0123ABCD"})
    assert settings.escalation == Escalation("C0123ABCD", "S0123ABCD")
    assert Settings.from_env({"CERTDESK_ESCALATION_CHANNEL": "G0PRIVATE"}).escalation == Escalation("G0PRIVATE")


@pytest.mark.parametrize("env, message", [
    ({"CERTDESK_ESCALATION_CHANNEL": "#compliance"},
     "CERTDESK_ESCALATION_CHANNEL must be an ID such as C0123ABCD .* not '#compliance'"),
    ({"CERTDESK_ESCALATION_CHANNEL": "c0123abcd"}, "CERTDESK_ESCALATION_CHANNEL must be an ID"),
    ({"CERTDESK_ESCALATION_CHANNEL": "U0123ABCD"}, "CERTDESK_ESCALATION_CHANNEL must be an ID"),
    ({"CERTDESK_ESCALATION_CHANNEL": "C0123", "CERTDESK_ESCALATION_GROUP": "@compliance"},
     "CERTDESK_ESCALATION_GROUP must be an ID such as S0123ABCD .* not '@compliance'"),
    ({"CERTDESK_ESCALATION_GROUP": "S0123"},
     "CERTDESK_ESCALATION_GROUP is set but CERTDESK_ESCALATION_CHANNEL is not"),
])
def test_escalation_settings_refuse_names_and_say_what_an_id_looks_like(env: dict[str, str],
                                                                        message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_the_settings_are_documented() -> None:
    from slack_fixtures import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    for name in ("CERTDESK_ESCALATION_CHANNEL", "CERTDESK_ESCALATION_GROUP"):
        assert f"| `{name}` |" in readme and f"# {name}=" in example
    assert "### Hand-off to compliance" in readme and "### Ask certdesk on any message" in readme


@pytest.mark.parametrize("state, logged", [
    ("member", '"Ask compliance" posts in C0ESC, tagging S0COMP'),
    ("not a member", "certdesk is not a member of CERTDESK_ESCALATION_CHANNEL C0ESC; "
                     '"Ask compliance" fails until /invite @certdesk there'),
    ("private without us", "CERTDESK_ESCALATION_CHANNEL C0ESC: Slack could not show it to certdesk "
                           "(channel_not_found)"),
    ("shared", "CERTDESK_ESCALATION_CHANNEL C0ESC is shared with another organisation"),
    ("archived", "CERTDESK_ESCALATION_CHANNEL C0ESC is archived"),
])
def test_serve_says_at_start_up_whether_hand_offs_can_work(settings: Settings, workspace: FakeSlack,
                                                           caplog: pytest.LogCaptureFixture,
                                                           state: str, logged: str) -> None:
    from dataclasses import replace

    from bot.server import check_escalation

    caplog.set_level(logging.INFO, logger="bot")
    channel = {"member": internal_channel(ESCALATION, is_member=True),
               "not a member": internal_channel(ESCALATION, is_member=False),
               "shared": shared_channel(ESCALATION),
               "archived": internal_channel(ESCALATION, is_archived=True, is_member=True)}.get(state)
    if channel:
        workspace.channels[ESCALATION] = channel
    check_escalation(replace(settings, escalation_channel=ESCALATION, escalation_group=GROUP))
    (record,) = [r for r in caplog.records if r.name == "bot.server"]
    assert logged in record.getMessage()
    assert record.levelno == (logging.INFO if state == "member" else logging.WARNING)

    caplog.clear()
    check_escalation(settings)    # unset: said, and nothing asked of Slack
    assert "hand-off to compliance is off" in caplog.text


def test_a_bug_while_handing_off_does_not_count_as_sent(served: Served, fake_slack: FakeSlack,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    real = handoff.render_escalation

    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(handoff, "render_escalation", broken)
    value = json.dumps({"q": QUESTION})
    click(served, value, "broken")
    told = said(fake_slack, "broken")["text"]
    assert told.startswith("Sorry, something went wrong on my side") and f">{QUESTION}" in told
    assert "hand-off to C0ESC failed (error)" in caplog.text and QUESTION in caplog.text
    monkeypatch.setattr(handoff, "render_escalation", real)
    click_until_sent(served, value)
    escalations(fake_slack)
