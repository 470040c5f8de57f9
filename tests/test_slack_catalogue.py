"""Freshness warnings, /cert list and /cert numbers through the real Bolt app over signed HTTP
(Slack faked on 127.0.0.1), on the seeds and on a company corpus whose documents are fresh,
old, expired, due for review or internal (tests/freshness_corpus.py)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from freshness_corpus import ATLAS_NUMBER, HERON_SCOPE, KESTREL_NUMBER, OSPREY_NUMBER, write_corpus
from slackstub import BOT_USER_ID, CHANNEL_ID, FakeSlack, block_actions_body, message_event
from slackstub.fixtures import fake_slack  # noqa: F401  (pytest fixture)
from slack_fixtures import *  # noqa: F401,F403  (pytest fixtures)
from slack_fixtures import DM, SHARED_CHANNEL, Served, SlowEngine, own_user

from bot import answering
from bot.blocks import SHARE_ACTION_ID
from bot.policy import OUTSIDE_NOTICE, SHARED_NOTICE
from bot.settings import Settings, SettingsError
from bot.surfaces import slash
from index.search import Engine, IndexRebuilding

OLD_PCI = ":warning: *last updated 2018-06-22 — confirm with compliance before quoting*"
EXPIRED_ATLAS = ":warning: *valid until 2024-03-01 — expired; confirm with compliance before quoting*"
TRUCS_NUMBERS = {"Cloud Hosting": "01018", "Cloud Object Storage Services": "02016",
                 "Block Storage Services": "05014", "Private Cloud Segment": "H02010"}
QUIET = 0.4


def shown(message: dict[str, Any]) -> str:
    """Everything Slack would show or notify from a message: fallback text and block texts."""
    texts = [message.get("text") or ""]
    for block in message.get("blocks") or []:
        if "text" in block:
            texts.append(block["text"]["text"])
        texts += [e["text"] for e in block.get("elements", []) if isinstance(e.get("text"), str)]
    return "\n".join(texts)


def section_texts(message: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]


@pytest.fixture(scope="module")
def company_engine(tmp_path_factory) -> Engine:
    engine = Engine.open(write_corpus(tmp_path_factory.mktemp("slack-fresh")))
    yield engine
    engine.close()


@pytest.fixture
def served(serve_app) -> Served:
    return serve_app()


@pytest.fixture
def company(serve_app, company_engine: Engine) -> Served:
    return serve_app(engine=company_engine)


# --- warnings in answers ------------------------------------------------------------------------


def test_a_stale_answer_warns_right_under_its_header(served: Served) -> None:
    reply = served.answer("Are we PCI DSS level 1?")
    assert reply["response_type"] == "ephemeral"
    texts = section_texts(reply)
    header = texts.index("*PCI DSS*")
    assert texts[header + 1] == OLD_PCI
    assert texts[header + 2].startswith(">") and "PCI DSS Grade 1" in texts[header + 2]
    assert reply["text"].startswith("⚠️ last updated 2018-06-22 — confirm with compliance before quoting")


def test_no_warning_within_the_stale_days_setting(serve_app) -> None:
    reply = serve_app(stale_days=100_000).answer("Are we PCI DSS level 1?")
    assert "PCI DSS Grade 1" in shown(reply)
    assert ":warning:" not in shown(reply) and "confirm with compliance" not in shown(reply)


def test_an_expired_certificate_warns_and_a_fresh_page_does_not(company: Served) -> None:
    expired = company.answer("Atlas Cloud Assurance certificate number")
    texts = section_texts(expired)
    assert ATLAS_NUMBER in texts[0] and texts[1] == EXPIRED_ATLAS
    fresh = company.answer("Heron Privacy Mark")
    assert "Heron Privacy Mark" in shown(fresh) and ":warning:" not in shown(fresh)


def test_the_warning_goes_with_a_shared_answer_and_a_dm(served: Served, fake_slack: FakeSlack) -> None:
    reply = served.answer("Are we PCI DSS level 1?")
    (value,) = [e["value"] for b in reply["blocks"] if b["type"] == "actions" for e in b["elements"]
                if e["action_id"] == SHARE_ACTION_ID]
    click = block_actions_body(SHARE_ACTION_ID, value, response_url=fake_slack.response_url("share"),
                               container={"type": "message", "message_ts": "1700000000.000900",
                                          "channel_id": CHANNEL_ID, "is_ephemeral": True})
    assert served.post(click)[0] == 200
    shared, _deleted = fake_slack.wait_for("response_url", count=2)
    assert shared.params["response_type"] == "in_channel" and OLD_PCI in section_texts(shared.params)
    assert served.event(message_event("Are we PCI DSS level 1?", channel_id=DM, channel_type="im")) == 200
    (posted,) = fake_slack.wait_for("chat.postMessage")
    assert OLD_PCI in section_texts(posted.params)


# --- /cert list and /cert numbers ---------------------------------------------------------------


def test_cert_list_shows_every_certification_with_scope_and_date(served: Served, slack_engine: Engine,
                                                                  settings: Settings) -> None:
    reply = served.answer("list")
    assert reply["response_type"] == "ephemeral"
    assert reply["blocks"][0]["text"]["text"] == f"Certifications ({len(slack_engine.catalog())})"
    text = shown(reply)
    for name, _date in slack_engine.catalog():
        assert f"• *{name}* — " in text
    assert f"• *PCI DSS* — PCI DSS Certification · {OLD_PCI}" in text
    assert "*Q:*" not in text and "Share in channel" not in text
    assert not settings.db_path.exists() or not rows(settings.db_path)   # not a question: not logged


def rows(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        try:
            return conn.execute("SELECT question FROM questions").fetchall()
        except sqlite3.OperationalError:
            return []


def test_cert_numbers_lists_every_number_with_its_label(served: Served) -> None:
    reply = served.answer("numbers")
    assert reply["response_type"] == "ephemeral"
    assert reply["blocks"][0]["text"]["text"] == "Certificate numbers (11)"
    text = shown(reply)
    assert "*Trusted Cloud Services (TRUCS)*" in text
    for label, number in TRUCS_NUMBERS.items():
        assert f"• {label} No: *{number}*" in text


@pytest.mark.parametrize("typed, header", [("LIST", "Certifications ("), ("  Numbers ", "Certificate numbers ("),
                                           ("list", "Certifications (")])
def test_only_the_word_itself_in_any_case_lists(served: Served, typed: str, header: str) -> None:
    assert served.answer(typed)["blocks"][0]["text"]["text"].startswith(header)


@pytest.mark.parametrize("question", ["list the ISO certificates", "numbers for TRUCS object storage"])
def test_a_question_that_starts_with_the_word_is_a_question(served: Served, question: str) -> None:
    reply = served.answer(question)
    assert f"*Q:* {question}" in shown(reply)
    assert reply["blocks"][0]["type"] != "header"


def test_help_names_list_and_numbers(served: Served) -> None:
    text = shown(served.command("help"))
    assert "`/cert list`" in text and "`/cert numbers`" in text


# --- who sees which part of the catalogue -------------------------------------------------------


def test_our_own_people_privately_see_internal_numbers(company: Served, fake_slack: FakeSlack) -> None:
    reply = company.answer("numbers")
    assert OSPREY_NUMBER in shown(reply) and answering.INTERNAL_LIST_NOTICE in shown(reply)
    assert "Osprey Security Seal" in shown(company.answer("list"))
    assert company.event(message_event("numbers", channel_id=DM, channel_type="im")) == 200
    (posted,) = fake_slack.wait_for("chat.postMessage")
    assert posted.params["channel"] == DM and OSPREY_NUMBER in shown(posted.params)


def test_a_shared_channel_sees_public_documents_only(company: Served) -> None:
    numbers = company.answer("numbers", channel_id=SHARED_CHANNEL)
    assert OSPREY_NUMBER not in shown(numbers) and KESTREL_NUMBER in shown(numbers)
    assert SHARED_NOTICE in shown(numbers)
    listed = company.answer("list", channel_id=SHARED_CHANNEL)
    assert "Osprey Security Seal" not in shown(listed) and f"• *Heron Privacy Mark* — {HERON_SCOPE}" in shown(listed)


def test_an_outsider_sees_public_documents_only(company: Served, fake_slack: FakeSlack) -> None:
    fake_slack.users["U0CUSTOMER"] = own_user("U0CUSTOMER", team_id="T0CUSTOMER")
    reply = company.answer("numbers", user_id="U0CUSTOMER")
    assert OSPREY_NUMBER not in shown(reply) and ATLAS_NUMBER in shown(reply) and OUTSIDE_NOTICE in shown(reply)
    assert OSPREY_NUMBER in shown(company.answer("numbers"))        # control: our own user


def test_a_mention_lists_public_documents_in_the_thread(company: Served, fake_slack: FakeSlack) -> None:
    mention = message_event(f"<@{BOT_USER_ID}> numbers", event_type="app_mention")
    assert company.event(mention) == 200
    (posted,) = fake_slack.wait_for("chat.postMessage")
    assert (posted.params["channel"], posted.params["thread_ts"]) == (CHANNEL_ID, mention["ts"])
    assert ATLAS_NUMBER in shown(posted.params) and OSPREY_NUMBER not in shown(posted.params)
    time.sleep(QUIET)
    assert len(fake_slack.calls("chat.postMessage")) == 1


def test_the_list_warns_of_old_and_expired_certifications_only(company: Served) -> None:
    text = shown(company.answer("list"))
    assert ("• *Kestrel Data Seal* — :warning: *valid until 2023-12-31 — expired; last updated 2018-06-22 — "
            "confirm with compliance before quoting*") in text
    heron = next(line for line in text.splitlines() if line.startswith("• *Heron Privacy Mark*"))
    assert ":warning:" not in heron          # its review is due, but that is the report's business


class RebuildingCatalogue:
    """The real engine, except that its sections are being rebuilt."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def ask(self, question: str, *, audience: str = "internal"):
        return self.engine.ask(question, audience=audience)

    def catalog(self, *, audience: str = "internal"):
        return self.engine.catalog(audience=audience)

    def sections(self, *, audience: str = "internal"):
        raise IndexRebuilding("rebuilding")


def test_a_catalogue_asked_while_the_index_is_rebuilt_says_so(serve_app, slack_engine: Engine) -> None:
    served = serve_app(engine=RebuildingCatalogue(slack_engine))
    assert served.command("list")["text"] == answering.REBUILDING
    assert "02016" in shown(served.answer("TRUCS certificate number for object storage"))   # control


# --- the setting --------------------------------------------------------------------------------


def test_stale_days_is_read_into_settings_and_a_bad_value_names_the_variable() -> None:
    assert Settings.from_env({}).stale_days == 730
    assert Settings.from_env({"CERTDESK_STALE_DAYS": "365"}).stale_days == 365
    with pytest.raises(SettingsError, match="CERTDESK_STALE_DAYS must be a whole number of days"):
        Settings.from_env({"CERTDESK_STALE_DAYS": "2y"})
    assert "stale_days=365" in repr(Settings.from_env({"CERTDESK_STALE_DAYS": "365"}))


def test_serve_with_a_bad_stale_days_exits_with_one_line(monkeypatch, capsys) -> None:
    from bot.cli import main

    monkeypatch.setenv("CERTDESK_STALE_DAYS", "forever")
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "CERTDESK_STALE_DAYS must be" in err and "Traceback" not in err


def test_a_slow_catalogue_acks_at_once_and_follows_via_response_url(
        serve_app, slack_engine: Engine, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(slash, "ACK_BUDGET", 0.2)
    served = serve_app(engine=SlowEngine(slack_engine, delay=0.8))
    reply = served.command("numbers", response_url=fake_slack.response_url("late-numbers"))
    assert reply == {"text": slash.LOOKING, "response_type": "ephemeral"}
    (late,) = fake_slack.wait_for("response_url", lambda c: c.path.endswith("/late-numbers"), timeout=5)
    assert late.params["replace_original"] is True and "• Cloud Object Storage Services No: *02016*" in shown(late.params)
