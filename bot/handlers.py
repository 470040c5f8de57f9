"""One small listener per Slack surface: slash command, share button, DM, mention, App Home,
feedback buttons, and the channel_shared / channel_unshared events.

Each question goes through the same steps, in this order (`Listeners.reply`):

  gather facts → policy → rate limit → engine → render → send → record

* Facts: the request's team (Bolt's `actor_team_id`, else `team_id`); the asker's own team and
  `is_stranger` from users.info (cached per user); whether the conversation is shared: the
  event's `is_ext_shared_channel`, else conversations.info (cached in a `ChannelInfoCache`,
  forgotten on channel_shared / channel_unshared). Fail closed: a conversation that cannot be
  checked counts as shared, a user who cannot be looked up as not one of ours.
* Policy: `bot.policy.decide` refuses other workspaces (CERTDESK_ALLOWED_TEAMS) and picks the
  audience. On top of it, what is posted for everyone to read (a mention's thread reply, a
  shared answer) is always answered from public documents: internal documents appear only in
  the asker's own ephemeral reply or DM.
* Rate limit: per user (CERTDESK_RATE_LIMIT a minute); past it, a friendly message instead.
* Record: every question that reached the engine goes to the question log, whose row id the
  feedback buttons carry. A failing log is logged and skipped, never in an answer's way.
  It is also the operator's one log line (bot/requestlog.py) and, with CERTDESK_METRICS=1,
  one count in /metrics (bot/metrics.py): both in `Listeners.log_request`, for every surface.

Rules every listener keeps, because the bot speaks in channels shared with customers:

* Ack first. Slack drops a request not acknowledged within 3 s; Bolt acks events at once, and
  the slash command acks within `ACK_BUDGET` whatever the look-ups and the search do.
* Never answer the same Slack message twice (`SeenRecord`, shared between worker processes):
  Slack redelivers events, and one message can arrive as both a DM and a mention.
* Never answer a bot (ourselves included) or a message subtype (edits, joins, deletions…).
* A refusal or a rate-limit notice is for the asker only: never posted in a channel.
* A failed send is logged with the channel and Slack's error code, and that is all: no
  exception escapes to Bolt, and no token or response_url (a capability) reaches the log.
"""

from __future__ import annotations

import json
import logging
import re
import time
from concurrent.futures import Executor, Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from index.answer import Answer
from index.search import IndexRebuilding

from .blocks import (
    FEEDBACK_DOWN_ACTION_ID,
    FEEDBACK_UP_ACTION_ID,
    SHARE_ACTION_ID,
    Message,
    render_answer,
    render_help,
    render_home,
    render_text,
)
from .dedup import SeenRecord
from .metrics import ANSWERED, UNANSWERED, Metrics
from .policy import REFUSAL, SHARED_NOTICE, ChannelInfoCache, Decision, Facts, decide
from .questionlog import QuestionLog
from .ratelimit import RateLimiter, friendly_message
from .requestlog import log_question
from .ttlcache import TTLCache

log = logging.getLogger(__name__)

ACK_BUDGET = 1.5      # seconds a slash command waits for its answer before acking "Looking…"
LATE_LIMIT = 25.0     # after that, a late answer is given up (the response_url lasts 30 min)
USER_TTL = 600.0      # users.info answers kept this long: a user's team does not change

LOOKING = "Looking that up…"
SORRY = "Sorry, something went wrong while looking that up. Please try again in a minute."
# The index was lost while serving and is rebuilt in the background (index.search.LiveEngine).
REBUILDING = "The document index is being rebuilt; please try again in a few seconds."
TOO_SLOW = "Sorry, looking that up took too long. Please try again in a minute."
BAD_BUTTON = "Sorry, I could not read the question behind that button. Please ask again."
NOT_SHAREABLE = ("Nothing in our public documents answers this question, so there is nothing I "
                 "can share in this channel.")
SHARE_FAILED = "Sorry, I could not share that answer in the channel. Please try again."
INTERNAL_NOTICE = ("Includes internal documents: shown only to you. "
                   "Share in channel posts only what public documents say.")
THANKS = "Thanks for the feedback — it helps us fill the gaps in our documents."
HELP_WORDS = frozenset({"", "help"})

# Channel types for `Facts.channel_type`, besides Slack's own "im", "channel", "group", "mpim".
SLASH = "slash"          # a slash command: its ephemeral answer shows in that conversation
APP_HOME = "app_home"    # the App Home tab: only its user ever sees it
FEEDBACK = "feedback"

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


def request_team(context: BoltContext) -> str | None:
    """The workspace a request came from: the acting user's team when Slack says (a Slack
    Connect channel), else the team the request was delivered for."""
    return context.actor_team_id or context.team_id


def token_team(context: BoltContext) -> str | None:
    """The bot token's own team (auth.test, which Bolt's authorization already called)."""
    result = context.authorize_result
    return result.team_id if result is not None else None


def kind_of_channel(channel_id: str | None) -> str:
    """A conversation's type from its id, for events that do not say (app_mention)."""
    return {"D": "im", "G": "group"}.get((channel_id or "C")[:1], "channel")


def quotes_internal(answer: Answer) -> bool:
    return answer.answered and any(r.visibility != "public" for r in answer.results)


def public_only(decision: Decision, notice: str | None = None) -> Decision:
    """The decision for a message everyone in the conversation reads: public documents only.
    `notice` is said when this, not the policy, is what narrowed the audience."""
    if decision.audience == "public":
        return decision
    return replace(decision, audience="public", notice=notice)


@dataclass(frozen=True)
class Asker:
    """Who asks, and where, as the payload says (before any look-up)."""

    team_id: str | None
    user_id: str | None
    channel_id: str | None
    channel_type: str
    ext_shared: bool | None = None    # the event's `is_ext_shared_channel`, when it has one


@dataclass(frozen=True)
class Reply:
    """A message to send; `asker_only` for refusals and rate-limit notices, which are never
    posted where others read."""

    message: Message
    asker_only: bool = False


UserFacts = tuple[str | None, bool]   # users.info's (team_id, is_stranger)


def user_cache(ttl: float = USER_TTL) -> TTLCache[UserFacts]:
    """users.info answers per user; only answers Slack gave are kept (a failed look-up is
    retried by the next question)."""
    return TTLCache(ttl, max_entries=10_000, name="users.info cache")


@dataclass
class Safety:
    """The trust-and-safety parts the listeners share (one set per process).

    `lookups` is the client for users.info / conversations.info (short timeout, no waiting
    on 429: a look-up that fails counts as the answer that shows less); None uses the
    request's own client.
    """

    allowed_teams: frozenset[str] = frozenset()
    home_team: str | None = None
    limiter: RateLimiter = field(default_factory=RateLimiter)
    channels: ChannelInfoCache = field(default_factory=ChannelInfoCache)
    users: TTLCache[UserFacts] = field(default_factory=user_cache)
    question_log: QuestionLog | None = None
    lookups: WebClient | None = None


# --- the listeners -------------------------------------------------------------------------


class Listeners:
    """certdesk's listeners, sharing one engine, de-dup record, search pool and `Safety`."""

    def __init__(self, *, engine: AnswerSource, command: str, seen: SeenRecord,
                 search_pool: Executor, safety: Safety | None = None,
                 metrics: Metrics | None = None) -> None:
        self.engine = engine
        self.command = command
        self.seen = seen
        self.search_pool = search_pool
        self.safety = safety or Safety()
        self.metrics = metrics

    # -- facts and policy -------------------------------------------------------------------

    def user_facts(self, client: WebClient, user_id: str | None) -> tuple[str | None, bool | None]:
        """(the user's own team, is_stranger) from users.info; (None, None) if unknown."""
        if not user_id:
            return None, None
        cached = self.safety.users.get(user_id)
        if cached is not None:
            return cached
        try:
            user = (self.safety.lookups or client).users_info(user=user_id)["user"]
        except Exception as error:
            log.warning("users.info for %s failed: %s; treating the asker as not one of ours",
                        user_id, _describe(error))
            return None, None
        facts: UserFacts = (user.get("team_id"), bool(user.get("is_stranger", False)))
        self.safety.users.put(user_id, facts)
        return facts

    def channel_shared(self, client: WebClient, channel_id: str | None,
                       ext_shared: bool | None) -> bool:
        """Whether anyone outside our organisation may read the conversation. Fail closed:
        True whenever Slack cannot tell us otherwise."""
        if ext_shared:
            return True
        if not channel_id:
            return True
        cached = self.safety.channels.get(channel_id)
        if cached is not None:
            return cached
        try:
            info = (self.safety.lookups or client).conversations_info(channel=channel_id)["channel"]
        except Exception as error:
            log.warning("conversations.info for %s failed: %s; treating it as shared",
                        channel_id, _describe(error))
            return True
        shared = any(bool(info.get(flag)) for flag in ("is_ext_shared", "is_pending_ext_shared", "is_shared"))
        self.safety.channels.put(channel_id, shared)
        return shared

    def decide(self, asker: Asker, client: WebClient, context: BoltContext) -> Decision:
        user_team, stranger = self.user_facts(client, asker.user_id)
        shared = (False if asker.channel_type == APP_HOME
                  else self.channel_shared(client, asker.channel_id, asker.ext_shared))
        facts = Facts(team_id=asker.team_id, user_team_id=user_team, user_is_stranger=stranger,
                      channel_type=asker.channel_type, channel_shared=shared)
        return decide(facts, allowed_teams=self.safety.allowed_teams,
                      home_team=self.safety.home_team or token_team(context))

    def admitted(self, asker: Asker) -> str | None:
        """The rate limit: None if this question may be answered, else what to say."""
        verdict = self.safety.limiter.check(asker.user_id or "")
        return None if verdict.allowed else friendly_message(verdict.retry_after)

    # -- answering ----------------------------------------------------------------------------

    def reply(self, asker: Asker, text: str, client: WebClient, context: BoltContext, *,
              surface: str, for_everyone: bool, share_button: bool = False) -> Reply:
        """facts → policy → (help) → rate limit → engine → render, recording the question.

        `for_everyone`: the answer is posted where others read (a mention's thread), so it
        quotes public documents only, whatever the asker could see privately.
        """
        started = time.monotonic()
        decision = self.decide(asker, client, context)
        if not decision.allowed:
            return Reply(render_text(decision.refusal or REFUSAL), asker_only=True)
        if is_help(text):
            return Reply(render_help(self.command))
        if for_everyone:
            decision = public_only(decision, SHARED_NOTICE)
        limited = self.admitted(asker)
        if limited:
            return Reply(render_text(limited), asker_only=True)
        try:
            answer = self.engine.ask(text, audience=decision.audience)
        except IndexRebuilding:   # logged once by the engine, not per question
            self.log_request(surface, asker, None, started, outcome="rebuilding")
            return Reply(render_text(REBUILDING))
        except Exception:
            log.exception("answering a question (%s) failed", asker.channel_type)
            self.log_request(surface, asker, None, started, outcome="error")
            return Reply(render_text(SORRY))
        ref = self.record(asker, text, answer, started)
        self.log_request(surface, asker, answer, started)
        notice = decision.notice or (INTERNAL_NOTICE if quotes_internal(answer) else None)
        return Reply(render_answer(answer, share_button=share_button, notice=notice, feedback_ref=ref))

    def log_request(self, surface: str, asker: Asker, answer: Answer | None, started: float,
                    outcome: str = ANSWERED) -> None:
        """The operator's one line for this question (bot/requestlog.py), and its count in
        /metrics (bot/metrics.py) when CERTDESK_METRICS is on: surface and outcome only."""
        seconds = time.monotonic() - started
        question_log = self.safety.question_log
        try:
            user = question_log.user_hash(asker.user_id) if question_log and asker.user_id else None
        except Exception:          # the hash is a nicety; the line is written anyway
            user = None
        top = answer.results[0].certification if answer and answer.answered and answer.results else None
        log_question(surface=surface, answered=None if answer is None else answer.answered, top=top,
                     latency_ms=seconds * 1000, team=asker.team_id, user_hash=user, outcome=outcome)
        if self.metrics is not None:
            try:
                self.metrics.count(surface, UNANSWERED if answer is not None and not answer.answered
                                   else outcome, seconds)
            except Exception as error:   # never in an answer's way
                log.warning("counting a question for /metrics failed (%s)", type(error).__name__)

    def record(self, asker: Asker, question: str, answer: Answer, started: float) -> int | None:
        """The question log's row id for the feedback buttons; None if there is no log or it
        failed (logged: an answer never waits on, or breaks for, the question log)."""
        question_log = self.safety.question_log
        if question_log is None:
            return None
        try:
            return question_log.record(team_id=asker.team_id, channel_type=asker.channel_type,
                                       user_id=asker.user_id or "", question=question, answer=answer,
                                       latency_ms=(time.monotonic() - started) * 1000)
        except Exception as error:
            log.warning("recording a question in the question log failed (%s); answering without "
                        "feedback buttons", type(error).__name__)
            return None

    def _first_time(self, *keys: str | None) -> bool:
        """Claim the keys in order; True only if none was seen before.

        Stops at the first key already seen, without claiming the rest: with several workers
        handling one delivery at once, claiming every key would let one take the event id and
        another the message key, and then neither would answer. In order, exactly one caller
        gets past the first key, and a later key (the message) still catches the other route.

        A record that fails outright (not just its store: bot/dedup.py already falls back to
        memory for those) answers anyway, as the record itself does when its store is down."""
        try:
            return not any(self.seen.seen(k) for k in keys if k)  # any() stops at the first
        except Exception as error:
            log.warning("the de-dup record failed (%s); answering anyway", type(error).__name__)
            return True

    def _forget(self, key: str) -> None:
        """Release a claimed key (a share that failed may be clicked again)."""
        try:
            self.seen.forget(key)
        except Exception as error:
            log.warning("the de-dup record failed to forget a key (%s)", type(error).__name__)

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
    def post_ephemeral(client: WebClient, *, channel: str, user: str, thread_ts: str | None,
                       message: Message) -> bool:
        try:
            client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts, **_message(message))
        except Exception as error:
            log.warning("chat.postEphemeral in %s failed: %s", channel, _describe(error))
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

    def slash_command(self, ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient,
                      context: BoltContext) -> None:
        """Answer ephemerally: inline in the ack when look-ups and search are quick, else via
        respond(). Internal documents may be quoted here: only the asker sees it."""
        text = " ".join((command.get("text") or "").split())
        channel = command.get("channel_id")
        asker = Asker(team_id=request_team(context), user_id=command.get("user_id"),
                      channel_id=channel, channel_type=SLASH)
        future: Future[Reply] = self.search_pool.submit(
            self.reply, asker, text, client, context, surface="slash", for_everyone=False, share_button=True)
        try:
            reply = future.result(timeout=ACK_BUDGET)
        except FutureTimeout:
            ack(response_type="ephemeral", text=LOOKING)
            self._answer_late(future, respond, channel)
            return
        except Exception:
            log.exception("answering a slash command in %s failed", channel)
            ack(response_type="ephemeral", **_message(render_text(SORRY)))
            return
        ack(response_type="ephemeral", **_message(reply.message))

    def _answer_late(self, future: Future[Reply], respond: Respond, channel: str | None) -> None:
        try:
            message = future.result(timeout=LATE_LIMIT).message
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

    def share(self, ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
              client: WebClient, context: BoltContext) -> None:
        """Post the answer in the channel for everyone, saying who shared it; drop the ephemeral.

        Re-asked with the public audience: what appears in the channel never quotes internal
        documents, even if the asker's own answer did. The clicker goes through the same
        policy and rate limit as a question.
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
        asker = Asker(team_id=request_team(context), user_id=user, channel_id=channel,
                      channel_type=kind_of_channel(channel))
        decision = self.decide(asker, client, context)
        stop = (decision.refusal or REFUSAL) if not decision.allowed else self.admitted(asker)
        if stop:
            self._forget(key)  # may be clicked again later
            self.respond(respond, "share refusal", channel, response_type="ephemeral",
                         replace_original=False, **_message(render_text(stop)))
            return
        try:
            answer = self.engine.ask(question, audience=public_only(decision).audience)
        except Exception as error:
            if not isinstance(error, IndexRebuilding):
                log.exception("answering a shared question in %s failed", channel)
            self._forget(key)  # may be clicked again once answered
            said = REBUILDING if isinstance(error, IndexRebuilding) else SORRY
            self.respond(respond, "share error", channel, response_type="ephemeral",
                         replace_original=False, **_message(render_text(said)))
            return
        if not answer.answered:
            self.respond(respond, "share refusal", channel, response_type="ephemeral",
                         replace_original=False, **_message(render_text(NOT_SHAREABLE)))
            return
        try:
            message = render_answer(answer, shared_by=user, notice=decision.notice)
        except ValueError:  # not a plain user id: share without naming anyone
            log.warning("share in %s by an unexpected user id; posting without attribution", channel)
            message = render_answer(answer, notice=decision.notice)
        if self.respond(respond, "share", channel, response_type="in_channel", replace_original=False,
                        unfurl_links=False, unfurl_media=False, **_message(message)):
            self.respond(respond, "removing the shared ephemeral answer", channel, delete_original=True)
        else:
            self._forget(key)
            self.respond(respond, "share error", channel, response_type="ephemeral",
                         replace_original=False, **_message(render_text(SHARE_FAILED)))

    # -- feedback buttons -------------------------------------------------------------------

    def feedback(self, ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                 context: BoltContext) -> None:
        """Helpful / not helpful: one vote per user per question (a second click replaces it),
        thanked with an ephemeral note. Votes from workspaces not allowed are not counted."""
        ack()
        user = (body.get("user") or {}).get("id")
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
        try:
            ref = int(action.get("value") or "")
        except ValueError:
            log.info("feedback button in %s with an unreadable value", channel)
            return
        facts = Facts(team_id=request_team(context), user_team_id=None, user_is_stranger=None,
                      channel_type=FEEDBACK, channel_shared=None)
        decision = decide(facts, allowed_teams=self.safety.allowed_teams,
                          home_team=self.safety.home_team or token_team(context))
        if not decision.allowed or not user:
            self.respond(respond, "feedback refusal", channel, response_type="ephemeral",
                         replace_original=False, **_message(render_text(decision.refusal or REFUSAL)))
            return
        helpful = action.get("action_id") == FEEDBACK_UP_ACTION_ID
        question_log = self.safety.question_log
        try:
            if question_log is None or not question_log.feedback(ref, user_id=user, helpful=helpful):
                log.info("feedback in %s for a question not in the log", channel)
        except Exception as error:
            log.warning("recording feedback failed (%s)", type(error).__name__)
        self.respond(respond, "feedback thanks", channel, response_type="ephemeral",
                     replace_original=False, **_message(render_text(THANKS)))

    # -- events ---------------------------------------------------------------------------

    def direct_message(self, event: dict[str, Any], body: dict[str, Any], client: WebClient,
                       context: BoltContext) -> None:
        """A DM to the bot: answered in the DM (in its thread, if it was written in one)."""
        if event.get("channel_type") != "im" or not from_a_person(event):
            return
        channel, ts = event.get("channel"), event.get("ts")
        if not channel or not ts or not self._first_delivery(body, channel, ts):
            return
        asker = Asker(team_id=request_team(context), user_id=event.get("user"), channel_id=channel,
                      channel_type="im", ext_shared=body.get("is_ext_shared_channel"))
        text = without_mention(event.get("text") or "", context.bot_user_id)
        reply = self.reply(asker, text, client, context, surface="dm", for_everyone=False)
        self.post(client, channel=channel, thread_ts=event.get("thread_ts"), message=reply.message)

    def mention(self, event: dict[str, Any], body: dict[str, Any], client: WebClient,
                context: BoltContext) -> None:
        """An @-mention in a channel: answered in a thread on the asking message, from public
        documents only; a refusal or rate-limit notice goes to the asker alone."""
        if not from_a_person(event):
            return
        channel, ts = event.get("channel"), event.get("ts")
        if not channel or not ts or not self._first_delivery(body, channel, ts):
            return
        user = event["user"]
        asker = Asker(team_id=request_team(context), user_id=user, channel_id=channel,
                      channel_type=event.get("channel_type") or kind_of_channel(channel),
                      ext_shared=body.get("is_ext_shared_channel"))
        text = without_mention(event.get("text") or "", context.bot_user_id)
        reply = self.reply(asker, text, client, context, surface="mention", for_everyone=True)
        thread_ts = event.get("thread_ts") or ts
        if reply.asker_only:
            self.post_ephemeral(client, channel=channel, user=user, thread_ts=thread_ts,
                                message=reply.message)
        else:
            self.post(client, channel=channel, thread_ts=thread_ts, message=reply.message)

    def home_opened(self, event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        """The App Home tab: how to ask, and the certifications this user may know of
        (internal ones only for our own people; nothing for a workspace not allowed)."""
        user = event.get("user")
        if event.get("tab") != "home" or not user:
            return
        asker = Asker(team_id=request_team(context), user_id=user, channel_id=None, channel_type=APP_HOME)
        decision = self.decide(asker, client, context)
        if not decision.allowed:
            log.info("App Home opened from a workspace that is not allowed; not published")
            return
        try:
            view = render_home(self.engine.catalog(audience=decision.audience), command=self.command)
            client.views_publish(user_id=user, view=view)
        except Exception as error:
            log.warning("views.publish for %s failed: %s", user, _describe(error))

    def sharing_changed(self, event: dict[str, Any]) -> None:
        """channel_shared / channel_unshared: forget what we knew about that channel."""
        channel = event.get("channel")
        if channel:
            self.safety.channels.invalidate(channel)
            log.info("%s: %s; its sharing is looked up again", event.get("type"), channel)


def register(app: App, *, engine: AnswerSource, command: str, seen: SeenRecord,
             search_pool: Executor, safety: Safety | None = None,
             metrics: Metrics | None = None) -> Listeners:
    """Attach certdesk's listeners to `app`; returns them (tests and later issues use it)."""
    listeners = Listeners(engine=engine, command=command, seen=seen, search_pool=search_pool,
                          safety=safety, metrics=metrics)
    app.command(command)(listeners.slash_command)
    app.action(SHARE_ACTION_ID)(listeners.share)
    app.action(FEEDBACK_UP_ACTION_ID)(listeners.feedback)
    app.action(FEEDBACK_DOWN_ACTION_ID)(listeners.feedback)
    app.event("message")(listeners.direct_message)
    app.event("app_mention")(listeners.mention)
    app.event("app_home_opened")(listeners.home_opened)
    app.event("channel_shared")(listeners.sharing_changed)
    app.event("channel_unshared")(listeners.sharing_changed)
    return listeners
