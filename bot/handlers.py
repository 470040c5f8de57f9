"""One small listener per Slack surface: slash command, share button, DM, mention, App Home.

Each listener does the same four things: gather plain facts from the payload (text, user,
channel, thread), decide the audience (`bot/policy.py`), ask the engine, render with
`bot/blocks.py` and send. Nothing Slack-shaped goes into index/.

Rules every listener keeps, because the bot speaks in channels shared with customers:

* Ack first. Slack drops a request not acknowledged within 3 s; Bolt acks events at once, and
  the slash command acks within `ACK_BUDGET` whatever the search does.
* Never answer the same Slack message twice (`SeenRecord`): Slack redelivers events, and one
  message can arrive as both a DM and a mention.
* Never answer a bot (ourselves included) or a message subtype (edits, joins, deletions…).
* A failed send is logged with the channel and Slack's error code, and that is all: no
  exception escapes to Bolt, and no token or response_url (a capability) reaches the log.
"""

from __future__ import annotations

import json
import logging
import re
from concurrent.futures import Executor, Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Protocol

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from index.answer import Answer

from .blocks import SHARE_ACTION_ID, Message, render_answer, render_help, render_home, render_text
from .dedup import SeenRecord
from .policy import INTERNAL_NOTICE, Venue, audience_for

log = logging.getLogger(__name__)

ACK_BUDGET = 1.5      # seconds a slash command waits for its answer before acking "Looking…"
LATE_LIMIT = 25.0     # after that, a late answer is given up (the response_url lasts 30 min)

LOOKING = "Looking that up…"
SORRY = "Sorry, something went wrong while looking that up. Please try again in a minute."
TOO_SLOW = "Sorry, looking that up took too long. Please try again in a minute."
BAD_BUTTON = "Sorry, I could not read the question behind that button. Please ask again."
NOT_SHAREABLE = ("Nothing in our public documents answers this question, so there is nothing I "
                 "can share in this channel.")
SHARE_FAILED = "Sorry, I could not share that answer in the channel. Please try again."
HELP_WORDS = frozenset({"", "help"})

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")


class AnswerSource(Protocol):
    """What the handlers need from `index.search.Engine`."""

    def ask(self, question: str, *, audience: str = "internal") -> Answer: ...

    def catalog(self, *, audience: str = "internal") -> list[tuple[str, str | None]]: ...


# --- plain facts from payloads -------------------------------------------------------------


def from_a_person(event: dict[str, Any]) -> bool:
    """A person's plain message: no subtype (edit, join, deletion…), not written by any bot."""
    return not event.get("subtype") and not event.get("bot_id") and bool(event.get("user"))


def without_mention(text: str, bot_user_id: str | None) -> str:
    """The question without our own @-mention (other mentions are left to the engine)."""
    def drop(match: re.Match[str]) -> str:
        return " " if bot_user_id is None or match.group(1) == bot_user_id else match.group(0)

    if bot_user_id is None:  # unknown identity: drop a leading mention only
        text = _MENTION.sub(drop, text, count=1) if _MENTION.match(text.lstrip()) else text
    else:
        text = _MENTION.sub(drop, text)
    return " ".join(text.split())


def is_help(text: str) -> bool:
    return text.strip().casefold() in HELP_WORDS


def question_from_button(value: str | None) -> str | None:
    """The question in a share button's JSON value (`{"q": ...}`), or None if malformed."""
    try:
        data = json.loads(value or "")
    except ValueError:
        return None
    question = data.get("q") if isinstance(data, dict) else None
    if not isinstance(question, str) or not question.strip():
        return None
    return question.strip()


def _message(message: Message) -> dict[str, Any]:
    return {"text": message.text, "blocks": message.blocks}


def _describe(error: BaseException) -> str:
    """An error's code or class, without URLs (a response_url is a capability) or tokens."""
    if isinstance(error, SlackApiError):
        data = error.response.data if error.response is not None else None
        code = data.get("error") if isinstance(data, dict) else None
        return code or f"HTTP {getattr(error.response, 'status_code', '?')}"
    reason = getattr(error, "reason", None)  # URLError: the OSError underneath
    if isinstance(reason, BaseException):
        return f"{type(error).__name__}: {type(reason).__name__}"
    return type(error).__name__


# --- the listeners -------------------------------------------------------------------------


class Listeners:
    """certdesk's listeners, sharing one engine, one de-dup record and one search pool."""

    def __init__(self, *, engine: AnswerSource, command: str, seen: SeenRecord,
                 search_pool: Executor) -> None:
        self.engine = engine
        self.command = command
        self.seen = seen
        self.search_pool = search_pool

    # -- answering ------------------------------------------------------------------------

    def reply_to(self, text: str, venue: Venue) -> Message:
        """Help for an empty question or "help", else the answer for this venue's audience."""
        if is_help(text):
            return render_help(self.command)
        try:
            answer = self.engine.ask(text, audience=audience_for(venue))
        except Exception:
            log.exception("answering a question failed")
            return render_text(SORRY)
        return render_answer(answer)

    @staticmethod
    def private_answer(answer: Answer) -> Message:
        """The asker's ephemeral answer, with the share button; says so when it quotes
        internal documents (sharing re-asks with the public audience)."""
        internal = answer.answered and any(r.visibility != "public" for r in answer.results)
        return render_answer(answer, share_button=True, notice=INTERNAL_NOTICE if internal else None)

    def _first_time(self, *keys: str | None) -> bool:
        """Record every key; True only if none was seen before (all are recorded either way)."""
        repeated = [self.seen.seen(k) for k in keys if k]
        return not any(repeated)

    def _first_delivery(self, body: dict[str, Any], channel: str, ts: str) -> bool:
        """Neither this event (a Slack retry) nor this message (another route) answered yet."""
        event_id = body.get("event_id")
        return self._first_time(f"event:{event_id}" if event_id else None, f"msg:{channel}:{ts}")

    # -- sending --------------------------------------------------------------------------

    @staticmethod
    def post(client: WebClient, *, channel: str, thread_ts: str | None, message: Message) -> bool:
        try:
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, unfurl_links=False,
                                    unfurl_media=False, **_message(message))
        except Exception as error:  # after slack-sdk's own retries
            log.warning("chat.postMessage to %s failed: %s", channel, _describe(error))
            return False
        return True

    @staticmethod
    def respond(respond: Respond, what: str, channel: str | None, **message: Any) -> bool:
        try:
            response = respond(**message)
        except Exception as error:
            log.warning("%s via response_url in %s failed: %s", what, channel, _describe(error))
            return False
        if response.status_code != 200:
            log.warning("%s via response_url in %s failed: HTTP %s %s", what, channel,
                        response.status_code, (response.body or "")[:100])
            return False
        return True

    # -- slash command --------------------------------------------------------------------

    def slash_command(self, ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        """Answer ephemerally: inline in the ack when the search is quick, else via respond()."""
        text = " ".join((command.get("text") or "").split())
        channel = command.get("channel_id")
        if is_help(text):
            ack(response_type="ephemeral", **_message(render_help(self.command)))
            return
        venue = Venue(private=True)
        future: Future[Answer] = self.search_pool.submit(self.engine.ask, text,
                                                         audience=audience_for(venue))
        try:
            answer = future.result(timeout=ACK_BUDGET)
        except FutureTimeout:
            ack(response_type="ephemeral", text=LOOKING)
            self._answer_late(future, respond, channel)
            return
        except Exception:
            log.exception("answering a slash command in %s failed", channel)
            ack(response_type="ephemeral", **_message(render_text(SORRY)))
            return
        ack(response_type="ephemeral", **_message(self.private_answer(answer)))

    def _answer_late(self, future: Future[Answer], respond: Respond, channel: str | None) -> None:
        try:
            message = self.private_answer(future.result(timeout=LATE_LIMIT))
        except FutureTimeout:
            log.warning("a slash command in %s took over %.0f s; gave up", channel, LATE_LIMIT)
            message = render_text(TOO_SLOW)
        except Exception:
            log.exception("answering a slash command in %s failed", channel)
            message = render_text(SORRY)
        self.respond(respond, "late slash-command answer", channel, response_type="ephemeral",
                     replace_original=True, unfurl_links=False, unfurl_media=False,
                     **_message(message))

    # -- share button ---------------------------------------------------------------------

    def share(self, ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        """Post the answer in the channel for everyone, saying who shared it; drop the ephemeral.

        Re-asked with the public audience: what appears in the channel never quotes internal
        documents, even if the asker's own answer did.
        """
        ack()
        user = (body.get("user") or {}).get("id")
        container = body.get("container") or {}
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
        question = question_from_button(action.get("value"))
        if question is None:
            log.info("share button in %s with an unreadable value", channel)
            self.respond(respond, "share error", channel, response_type="ephemeral",
                         replace_original=False, **_message(render_text(BAD_BUTTON)))
            return
        message_ts = container.get("message_ts")
        key = (f"share:{channel}:{message_ts}" if message_ts
               else f"share:{channel}:{user}:{question}")
        if not self._first_time(key):
            log.info("share in %s already done; ignoring the repeated click", channel)
            return
        try:
            answer = self.engine.ask(question, audience=audience_for(Venue(private=False)))
        except Exception:
            log.exception("answering a shared question in %s failed", channel)
            self.seen.forget(key)
            self.respond(respond, "share error", channel, response_type="ephemeral",
                         replace_original=False, **_message(render_text(SORRY)))
            return
        if not answer.answered:
            self.respond(respond, "share refusal", channel, response_type="ephemeral",
                         replace_original=False, **_message(render_text(NOT_SHAREABLE)))
            return
        try:
            message = render_answer(answer, shared_by=user)
        except ValueError:  # not a plain user id: share without naming anyone
            log.warning("share in %s by an unexpected user id; posting without attribution", channel)
            message = render_answer(answer)
        if self.respond(respond, "share", channel, response_type="in_channel", replace_original=False,
                        unfurl_links=False, unfurl_media=False, **_message(message)):
            self.respond(respond, "removing the shared ephemeral answer", channel, delete_original=True)
        else:
            self.seen.forget(key)
            self.respond(respond, "share error", channel, response_type="ephemeral",
                         replace_original=False, **_message(render_text(SHARE_FAILED)))

    # -- events ---------------------------------------------------------------------------

    def direct_message(self, event: dict[str, Any], body: dict[str, Any], client: WebClient,
                       context: BoltContext) -> None:
        """A DM to the bot: answered in the DM (in its thread, if it was written in one)."""
        if event.get("channel_type") != "im" or not from_a_person(event):
            return
        channel, ts = event.get("channel"), event.get("ts")
        if not channel or not ts or not self._first_delivery(body, channel, ts):
            return
        venue = Venue(private=True, shared_externally=bool(body.get("is_ext_shared_channel")))
        text = without_mention(event.get("text") or "", context.bot_user_id)
        self.post(client, channel=channel, thread_ts=event.get("thread_ts"),
                  message=self.reply_to(text, venue))

    def mention(self, event: dict[str, Any], body: dict[str, Any], client: WebClient,
                context: BoltContext) -> None:
        """An @-mention in a channel: answered in a thread on the asking message."""
        if not from_a_person(event):
            return
        channel, ts = event.get("channel"), event.get("ts")
        if not channel or not ts or not self._first_delivery(body, channel, ts):
            return
        text = without_mention(event.get("text") or "", context.bot_user_id)
        self.post(client, channel=channel, thread_ts=event.get("thread_ts") or ts,
                  message=self.reply_to(text, Venue(private=False)))

    def home_opened(self, event: dict[str, Any], client: WebClient) -> None:
        """The App Home tab: how to ask, and every certification known."""
        if event.get("tab") != "home" or not event.get("user"):
            return
        try:
            view = render_home(self.engine.catalog(), command=self.command)
            client.views_publish(user_id=event["user"], view=view)
        except Exception as error:
            log.warning("views.publish for %s failed: %s", event.get("user"), _describe(error))


def register(app: App, *, engine: AnswerSource, command: str, seen: SeenRecord,
             search_pool: Executor) -> Listeners:
    """Attach certdesk's listeners to `app`; returns them (tests and later issues use it)."""
    listeners = Listeners(engine=engine, command=command, seen=seen, search_pool=search_pool)
    app.command(command)(listeners.slash_command)
    app.action(SHARE_ACTION_ID)(listeners.share)
    app.event("message")(listeners.direct_message)
    app.event("app_mention")(listeners.mention)
    app.event("app_home_opened")(listeners.home_opened)
    return listeners

