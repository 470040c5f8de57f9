"""Follow-up questions in threads, through the real Bolt app over HTTP (FakeSlack, signed requests).

On the real seeds' index. The follow-ups are chosen so that the thread's context changes the
answer: "and in Germany?" alone is answered with BSI C5, after "TISAX assessment level?" with
TISAX; "which regions?" alone is not answered at all.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from slackstub import BOT_USER_ID, CHANNEL_ID, FakeSlack, message_event
from slackstub.fixtures import fake_slack  # noqa: F401  (pytest fixture)
from slack_fixtures import *  # noqa: F401,F403  (pytest fixtures)
from slack_fixtures import DM, SHARED_CHANNEL, Served, internal_channel

from bot.threadmemory import SqliteThreadMemory
from index.build import build_index
from index.followup import Earlier
from index.search import Engine

OTHER_CHANNEL = "C0OTHER"
_TS = iter(range(1, 10_000))


def new_ts() -> str:
    """A fresh message ts: each test's messages are distinct (FakeSlack does not make them)."""
    return f"1700001000.{next(_TS):06d}"


def shown(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def top_certification(blocks: list[dict[str, Any]]) -> str | None:
    """The first result's certification: the bold start of its header section."""
    for block in blocks:
        if block["type"] == "section":
            found = re.match(r"\*(.+?)\*", block["text"]["text"])
            if found:
                return found.group(1)
    return None


def mention(served: Served, text: str, *, channel: str = CHANNEL_ID, thread_ts: str | None = None,
            ts: str | None = None) -> dict[str, Any]:
    """Mention the bot; the answer it posts (waited for), checked to be in the right thread."""
    ts = ts or new_ts()
    event = message_event(f"<@{BOT_USER_ID}> {text}", event_type="app_mention", channel_id=channel,
                          ts=ts, thread_ts=thread_ts)
    before = len(served.slack.calls("chat.postMessage"))
    assert served.event(event) == 200
    posted = served.slack.wait_for("chat.postMessage", count=before + 1, timeout=10)[before]
    assert (posted.params["channel"], posted.params["thread_ts"]) == (channel, thread_ts or ts)
    return posted.params


@pytest.fixture
def served(serve_app, workspace: FakeSlack) -> Served:
    workspace.channels[OTHER_CHANNEL] = internal_channel(OTHER_CHANNEL)
    return serve_app()


def test_a_follow_up_in_the_thread_is_answered_about_the_same_certification(served: Served) -> None:
    first = mention(served, "TISAX assessment level?")
    root = first["thread_ts"]
    assert top_certification(first["blocks"]) == "TISAX"
    assert "Follow-up to" not in shown(first["blocks"])

    follow = mention(served, "and in Germany?", thread_ts=root)
    assert top_certification(follow["blocks"]) == "TISAX"
    text = shown(follow["blocks"])
    assert "*Q:* and in Germany?" in text                     # restated as typed
    assert "Follow-up to “TISAX assessment level?” — searched: “TISAX level in Germany”" in text

    # Its own kind of fact, about the thread's certification: unanswerable without the thread.
    regions = mention(served, "which regions?", thread_ts=root)
    assert top_certification(regions["blocks"]) == "TISAX"
    assert "searched: “which regions for TISAX”" in shown(regions["blocks"])


def test_the_same_follow_up_outside_a_known_thread_is_answered_as_itself(served: Served) -> None:
    plain = mention(served, "and in Germany?")                               # top level
    in_unknown_thread = mention(served, "and in Germany?", thread_ts=new_ts())  # never answered there
    for posted in (plain, in_unknown_thread):
        assert top_certification(posted["blocks"]) == "BSI C5"
        assert "Follow-up to" not in shown(posted["blocks"])
    assert "Nothing in the certification documents" in shown(
        mention(served, "which regions?", thread_ts=new_ts())["blocks"])


def test_a_follow_up_naming_another_certification_switches_and_the_thread_follows(served: Served) -> None:
    first = mention(served, "TRUCS certificate number for object storage")
    root = first["thread_ts"]
    assert "02016" in shown(first["blocks"])

    block_storage = mention(served, "what about block storage?", thread_ts=root)
    assert top_certification(block_storage["blocks"]) == "Trusted Cloud Services (TRUCS)"
    assert "Block Storage Services No: *05014*" in shown(block_storage["blocks"])

    ospar = mention(served, "what about OSPAR?", thread_ts=root)
    text = shown(ospar["blocks"])
    assert top_certification(ospar["blocks"]) == "OSPAR"
    assert "searched: “certificate number for OSPAR”" in text
    assert "The documents do not state the certificate number for OSPAR." in text  # not guessed

    # The thread now continues from OSPAR, its latest answer.
    auditor = mention(served, "who audited it?", thread_ts=root)
    assert top_certification(auditor["blocks"]) == "OSPAR"
    assert "searched: “who audited OSPAR”" in shown(auditor["blocks"])


def test_context_does_not_leak_between_threads_or_channels(served: Served) -> None:
    root = mention(served, "TISAX assessment level?")["thread_ts"]
    other_thread = mention(served, "and in Germany?", thread_ts=new_ts())
    same_ts_other_channel = mention(served, "and in Germany?", channel=OTHER_CHANNEL, thread_ts=root)
    for posted in (other_thread, same_ts_other_channel):
        assert top_certification(posted["blocks"]) == "BSI C5"
        assert "Follow-up to" not in shown(posted["blocks"])
    # Control: in its own thread the same follow-up does use the context.
    assert top_certification(mention(served, "and in Germany?", thread_ts=root)["blocks"]) == "TISAX"


def test_a_follow_up_in_a_dm_thread_is_answered_in_context(served: Served, fake_slack: FakeSlack) -> None:
    answer_ts = new_ts()    # the ts Slack gives the bot's top-level answer
    fake_slack.results["chat.postMessage"] = lambda call: {
        "ok": True, "channel": call.params.get("channel"),
        "ts": answer_ts if "thread_ts" not in call.params else new_ts()}
    question = message_event("TISAX assessment level?", channel_id=DM, channel_type="im", ts=new_ts())
    assert served.event(question) == 200
    (answer,) = fake_slack.wait_for("chat.postMessage")
    assert "thread_ts" not in answer.params                  # a DM is answered at the top level
    assert top_certification(answer.params["blocks"]) == "TISAX"

    # "Reply in thread" on the question, then on the bot's answer: both follow it up.
    for n, thread in enumerate((question["ts"], answer_ts), start=2):
        follow = message_event("and in Germany?", channel_id=DM, channel_type="im", ts=new_ts(),
                               thread_ts=thread)
        assert served.event(follow) == 200
        posted = fake_slack.wait_for("chat.postMessage", count=n)[n - 1]
        assert (posted.params["channel"], posted.params["thread_ts"]) == (DM, thread)
        assert top_certification(posted.params["blocks"]) == "TISAX"
        assert "Follow-up to “TISAX assessment level?”" in shown(posted.params["blocks"])


def test_the_thread_is_remembered_in_the_shared_store(serve_app, settings) -> None:
    """What a second worker process or a restarted server reads: the SQLite file beside the
    question log (bot/threadmemory.py), not this process's memory."""
    served = serve_app()
    root = mention(served, "TISAX assessment level?")["thread_ts"]
    store = SqliteThreadMemory(settings.threads_target)
    assert store.recall(CHANNEL_ID, root) == Earlier("TISAX assessment level?", "TISAX")
    assert store.recall(CHANNEL_ID, new_ts()) is None

    # A new app on the same settings (a restart, another worker) continues the thread.
    restarted = serve_app()
    assert top_certification(mention(restarted, "and in Germany?", thread_ts=root)["blocks"]) == "TISAX"


INTERNAL_NUMBER = "05014-INTERNAL-RENEWAL"
INTERNAL_DOCUMENT = f"""---
title: Trusted Cloud Services register (internal)
visibility: internal
certification: Trusted Cloud Services (TRUCS)
last_updated: 2025-01-10
---
# Trusted Cloud Services register (internal)

Block Storage Services No: {INTERNAL_NUMBER}

The block storage services certificate renewal is filed under the internal reference above.
"""


@pytest.fixture
def engine_with_internal_document(corpus) -> Engine:
    (Path(corpus.seeds_dir) / "trucs_internal.md").write_text(INTERNAL_DOCUMENT, encoding="utf-8")
    build_index(corpus)
    engine = Engine.open(corpus)
    yield engine
    engine.close()


def test_a_follow_up_in_a_shared_channel_quotes_public_documents_only(
        serve_app, workspace: FakeSlack, engine_with_internal_document: Engine) -> None:
    served = serve_app(engine=engine_with_internal_document)
    root = mention(served, "TRUCS certificate number for object storage", channel=SHARED_CHANNEL)["thread_ts"]
    follow = mention(served, "what about block storage?", channel=SHARED_CHANNEL, thread_ts=root)
    text = shown(follow["blocks"])
    searched = "Trusted Cloud Services (TRUCS) certificate number for block storage"
    assert f"searched: “{searched}”" in text and "05014" in text
    assert INTERNAL_NUMBER not in text and INTERNAL_NUMBER not in follow["text"]
    # Control: the same question, for our own people in private, does quote the internal document.
    internal = engine_with_internal_document.ask(searched, audience="internal")
    assert any(n.number == INTERNAL_NUMBER for r in internal.results for n in r.certificate_numbers)


def test_a_follow_up_that_is_refused_or_limited_leaves_the_thread_as_it_was(serve_app) -> None:
    served = serve_app(rate_limit=2)
    root = mention(served, "TISAX assessment level?")["thread_ts"]
    assert top_certification(mention(served, "and in Germany?", thread_ts=root)["blocks"]) == "TISAX"
    event = message_event(f"<@{BOT_USER_ID}> what about OSPAR?", event_type="app_mention",
                          ts=new_ts(), thread_ts=root)
    assert served.event(event) == 200
    (limited,) = served.slack.wait_for("chat.postEphemeral", timeout=10)
    assert limited.params["thread_ts"] == root
    time.sleep(0.2)
    store = SqliteThreadMemory(served.settings.threads_target)
    assert store.recall(CHANNEL_ID, root) == Earlier("TISAX level in Germany", "TISAX")


def test_the_follow_up_line_pings_nobody_and_fits_slack() -> None:
    """Both questions in the line come from people: escaped like every restated question."""
    from bot.blocks import MAX_TEXT, render_answer
    from index.answer import Answer
    from index.followup import FollowUp

    earlier = Earlier("<!channel> TISAX level? " + "very " * 800, "TISAX")
    follow = FollowUp(asked="<@U0BOSS> and in Germany?", earlier=earlier, searched="TISAX level <!here>")
    message = render_answer(Answer(question=follow.searched, answered=False), follow_up=follow)
    text = shown(message.blocks)
    assert "<!channel>" not in text and "<!here>" not in text and "<@U0BOSS>" not in text
    assert "&lt;!channel&gt;" in text and "*Q:* &lt;@U0BOSS&gt; and in Germany?" in text
    line = message.blocks[1]["elements"][0]["text"]
    assert line.startswith("Follow-up to “&lt;!channel&gt; TISAX level? very") and len(line) <= MAX_TEXT
    assert line.endswith("— searched: “TISAX level &lt;!here&gt;”")
