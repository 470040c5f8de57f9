"""Answering one asker, the same way for every surface (`AnswerService.reply`):

  facts → policy → (help) → rate limit → (catalogue) → engine → render → record

Held once so that no surface can skip a step: the surfaces (bot/surfaces/) only read their
payload, hand the asker to the service and send what it returns.

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
* Follow-ups: a question written inside a thread the bot answered in is read in the context of
  that answer (index/followup.py writes it out as a standalone question; bot/threadmemory.py
  remembers, across workers and replicas, what each thread was last answered about). The
  answer shows what was searched.
* Record: every question that reached the engine goes to the question log, whose row id the
  feedback buttons carry. A failing log is logged and skipped, never in an answer's way.
  It is also the operator's one log line (bot/requestlog.py) and, with CERTDESK_METRICS=1,
  one count in /metrics (bot/metrics.py): both in `AnswerService.log_request`, for every
  surface.

The service also holds what must be one per process for every surface to see it: the
de-dup record (one Slack message can arrive as both a DM and a mention), the caches and the
rate limit (`Safety`), and the search pool the slash command waits on.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from slack_bolt import BoltContext
from slack_sdk import WebClient

from index import listing
from index.answer import Answer
from index.followup import Earlier, FollowUp, Reader, rewrite
from index.freshness import DEFAULT_STALE_DAYS, Freshness
from index.listing import SectionRecord
from index.search import IndexRebuilding

from .blocks import Message, render_answer, render_certifications, render_help, render_numbers, render_text
from .dedup import SeenRecord
from .metrics import ANSWERED, UNANSWERED, Metrics
from .payloads import token_team
from .policy import REFUSAL, SHARED_NOTICE, ChannelInfoCache, Decision, Facts, decide
from .questionlog import QuestionLog
from .ratelimit import RateLimiter, friendly_message
from .requestlog import log_question
from .settings import Escalation
from .slackcalls import UserFacts, look_up_sharing, look_up_user, user_cache
from .threadmemory import MemoryThreadMemory, ThreadMemory
from .ttlcache import TTLCache

log = logging.getLogger(__name__)

SORRY = "Sorry, something went wrong while looking that up. Please try again in a minute."
# The index was lost while serving and is rebuilt in the background (index.search.LiveEngine).
REBUILDING = "The document index is being rebuilt; please try again in a few seconds."
INTERNAL_NOTICE = ("Includes internal documents: shown only to you. "
                   "Share in channel posts only what public documents say.")
HELP_WORDS = frozenset({"", "help"})
# The catalogue: only these exact words (any case); "list the ISO certificates" is a question.
LIST = "list"
NUMBERS = "numbers"
CATALOGUE_WORDS = frozenset({LIST, NUMBERS})
INTERNAL_LIST_NOTICE = "Includes internal documents: shown only to you."

# Channel types for `Facts.channel_type` (and the question log), besides Slack's own "im",
# "channel", "group", "mpim".
SLASH = "slash"          # a slash command: its ephemeral answer shows in that conversation
APP_HOME = "app_home"    # the App Home tab: only its user ever sees it
FEEDBACK = "feedback"


class AnswerSource(Protocol):
    """What answering needs from `index.search.Engine`."""

    def ask(self, question: str, *, audience: str = "internal") -> Answer: ...

    def catalog(self, *, audience: str = "internal") -> list[tuple[str, str | None]]: ...

    def sections(self, *, audience: str = "internal") -> tuple[SectionRecord, ...]: ...


def is_help(text: str) -> bool:
    """An empty question or "help" asks how to ask, on every surface."""
    return text.strip().casefold() in HELP_WORDS


def catalogue_command(text: str) -> str | None:
    """LIST or NUMBERS when that word alone was typed (any case), else None: a question."""
    word = text.strip().casefold()
    return word if word in CATALOGUE_WORDS else None


def quotes_internal(answer: Answer) -> bool:
    """Whether the asker must be told that Share in channel will post less than they see."""
    return answer.answered and any(r.visibility != "public" for r in answer.results)


def question_reader(source: object) -> Reader | None:
    """The `index.search.Engine` that reads a follow-up's names and kinds: the source itself, or
    the one a wrapper answers from (`LiveEngine.engine`, the newest build). None for a source
    that reads no questions (a test double): its follow-ups are asked as they are typed."""
    for candidate in (source, getattr(source, "engine", None)):
        if callable(getattr(candidate, "plan", None)) and getattr(candidate, "lexicon", None) is not None:
            return candidate  # type: ignore[return-value]
    return None


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
class Thread:
    """Where in its conversation a question was asked, for follow-ups.

    `root`: the thread the answer goes to, the asking message's own ts when it starts one;
    `inside`: the question was written inside that thread, so it may follow up what the bot
    answered there. A question that starts a thread is answered as itself, and remembered
    for the follow-ups to come.
    """

    root: str
    inside: bool

    @classmethod
    def of(cls, event: dict[str, Any]) -> Thread | None:
        """The thread of a message event (a mention, a DM); None without a ts."""
        thread_ts, ts = event.get("thread_ts"), event.get("ts")
        root = thread_ts or ts
        return cls(root=root, inside=bool(thread_ts)) if root else None


@dataclass(frozen=True)
class Reply:
    """A message to send; `asker_only` for refusals and rate-limit notices, which are never
    posted where others read."""

    message: Message
    asker_only: bool = False
    about: Earlier | None = None    # what an answer was about, for follow-ups in its thread


@dataclass
class Safety:
    """The trust-and-safety parts every surface shares (one set per process).

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


class AnswerService:
    """Answers an asker for any surface, sharing one engine, de-dup record, search pool and
    `Safety` between them all. `escalation` (CERTDESK_ESCALATION_CHANNEL) puts "Ask
    compliance" on answers; None leaves the button out everywhere."""

    def __init__(self, *, engine: AnswerSource, command: str, seen: SeenRecord,
                 search_pool: Executor, safety: Safety | None = None,
                 metrics: Metrics | None = None, escalation: Escalation | None = None,
                 threads: ThreadMemory | None = None, stale_days: int = DEFAULT_STALE_DAYS,
                 today: Callable[[], dt.date] = dt.date.today) -> None:
        self.engine = engine
        self.command = command
        self.seen = seen
        self.search_pool = search_pool
        self.safety = safety or Safety()
        self.metrics = metrics
        self.escalation = escalation
        self.threads = threads if threads is not None else MemoryThreadMemory()
        self.stale_days = stale_days     # CERTDESK_STALE_DAYS
        self.today = today

    def freshness(self) -> Freshness:
        """Today (read once per reply, here and nowhere deeper) and CERTDESK_STALE_DAYS: what
        every rendering needs to warn about old or expired sources (index/freshness.py)."""
        return Freshness(today=self.today(), stale_days=self.stale_days)

    # -- policy and rate limit --------------------------------------------------------------

    def policy(self, facts: Facts, context: BoltContext) -> Decision:
        """`bot.policy.decide` with this process's allow-list, and CERTDESK_HOME_TEAM or else
        the bot token's own team as our organisation."""
        return decide(facts, allowed_teams=self.safety.allowed_teams,
                      home_team=self.safety.home_team or token_team(context))

    def decide(self, asker: Asker, client: WebClient, context: BoltContext) -> Decision:
        """The policy's decision for `asker`, after looking up what the payload did not say."""
        lookups = self.safety.lookups or client
        user_team, stranger = look_up_user(lookups, self.safety.users, asker.user_id)
        shared = (False if asker.channel_type == APP_HOME
                  else look_up_sharing(lookups, self.safety.channels, asker.channel_id, asker.ext_shared))
        return self.policy(Facts(team_id=asker.team_id, user_team_id=user_team,
                                 user_is_stranger=stranger, channel_type=asker.channel_type,
                                 channel_shared=shared), context)

    def admitted(self, asker: Asker) -> str | None:
        """The rate limit: None if this question may be answered, else what to say."""
        verdict = self.safety.limiter.check(asker.user_id or "")
        return None if verdict.allowed else friendly_message(verdict.retry_after)

    # -- answering --------------------------------------------------------------------------

    def reply(self, asker: Asker, text: str, client: WebClient, context: BoltContext, *,
              surface: str, for_everyone: bool, share_button: bool = False,
              about_ts: str | None = None, thread: Thread | None = None) -> Reply:
        """facts → policy → (help) → rate limit → engine → render, recording the question.

        `for_everyone`: the answer is posted where others read (a mention's thread), so it
        quotes public documents only, whatever the asker could see privately. `about_ts`:
        the message the question was read from, for the hand-off's link. `thread`: where
        a mention or DM was written, so a follow-up is read in its thread's context.
        """
        started = time.monotonic()
        decision = self.decide(asker, client, context)
        if not decision.allowed:
            return Reply(render_text(decision.refusal or REFUSAL), asker_only=True)
        if is_help(text):
            return Reply(render_help(self.command))
        handoff = self.may_hand_off(decision, for_everyone)
        if for_everyone:
            decision = public_only(decision, SHARED_NOTICE)
        limited = self.admitted(asker)
        if limited:
            return Reply(render_text(limited), asker_only=True)
        command = catalogue_command(text)
        if command:
            return Reply(self.catalogue(command, decision, surface))
        try:
            follow_up, answer = self.ask(text, decision.audience, asker, thread)
        except IndexRebuilding:   # logged once by the engine, not per question
            self.log_request(surface, asker, None, started, outcome="rebuilding")
            return Reply(render_text(REBUILDING))
        except Exception:
            log.exception("answering a question (%s) failed", asker.channel_type)
            self.log_request(surface, asker, None, started, outcome="error")
            return Reply(render_text(SORRY))
        ref = self.record(asker, follow_up.searched if follow_up else text, answer, started)
        self.log_request(surface, asker, answer, started)
        about = self.remember(asker, thread, answer)
        notice = decision.notice or (INTERNAL_NOTICE if quotes_internal(answer) else None)
        return Reply(render_answer(answer, share_button=share_button, notice=notice, feedback_ref=ref,
                                   handoff=handoff, about_ts=about_ts,
                                   follow_up=follow_up, freshness=self.freshness()), about=about)

    def may_hand_off(self, decision: Decision, for_everyone: bool) -> bool:
        """Whether the answer carries "Ask compliance": hand-off is set up and the asker is
        one of ours (an outsider may not page the compliance team). On an answer posted for
        everyone, only where no outsider reads it (`audience` internal: a channel known not
        to be shared), so a customer never sees, or clicks, an internal workflow's button."""
        if self.escalation is None or not decision.ours:
            return False
        return not for_everyone or decision.audience == "internal"

    # -- follow-ups in threads --------------------------------------------------------------

    def ask(self, text: str, audience: str, asker: Asker,
            thread: Thread | None) -> tuple[FollowUp | None, Answer]:
        """The engine's answer to `text`, or, when it follows up an answer in its thread, to the
        standalone question it stands for (index/followup.py), with that question."""
        follow_up = self.follow_up(text, asker, thread)
        return follow_up, self.engine.ask(follow_up.searched if follow_up else text, audience=audience)

    def follow_up(self, text: str, asker: Asker, thread: Thread | None) -> FollowUp | None:
        """`text` as a follow-up to what its thread was last answered about; None when it was
        not written inside a thread the bot answered in. Reading it never stops the answer:
        on any failure the question is asked as typed (logged)."""
        if thread is None or not thread.inside or not asker.channel_id:
            return None
        reader = question_reader(self.engine)
        if reader is None:
            return None
        try:
            earlier = self.threads.recall(asker.channel_id, thread.root)
            return rewrite(text, earlier, reader) if earlier is not None else None
        except Exception as error:
            log.warning("reading a follow-up in %s failed (%s); answering it as a question of its own",
                        asker.channel_id, type(error).__name__)
            return None

    def remember(self, asker: Asker, thread: Thread | None, answer: Answer) -> Earlier | None:
        """Record what `thread` was answered about, for its follow-ups: the question searched
        and the top result's certification (returned). An unanswered question leaves the
        earlier context as it was, so the thread can go on from the last answer."""
        if thread is None or not asker.channel_id or not (answer.answered and answer.results):
            return None
        about = Earlier(answer.question, answer.results[0].certification)
        self.remember_thread(asker.channel_id, thread.root, about)
        return about

    def remember_thread(self, channel: str, thread: str, about: Earlier) -> None:
        """`about` for follow-ups in `thread` of `channel`; a failure is logged, never raised.

        A surface also calls this for the answer's own ts when it posted the answer as a
        message of its own (a DM answered at the top level): "Reply in thread" on the answer
        then continues from it, as a reply on the question does."""
        try:
            self.threads.remember(channel, thread, about)
        except Exception as error:   # the stores log their own failures; this is anything else
            log.warning("remembering the thread in %s failed (%s)", channel, type(error).__name__)

    def catalogue(self, command: str, decision: Decision, surface: str) -> Message:
        """`/cert list` or `/cert numbers` for the decided audience: a shared channel or an
        outsider sees public documents only, names and numbers included. Not a question:
        neither logged as one nor counted in /metrics (like help)."""
        try:
            records = self.engine.sections(audience=decision.audience)
        except IndexRebuilding:
            return render_text(REBUILDING)
        except Exception:
            log.exception("listing the catalogue (%s) failed", command)
            return render_text(SORRY)
        notice = decision.notice or (INTERNAL_LIST_NOTICE if any(r.visibility != "public" for r in records)
                                     else None)
        if command == LIST:
            entries = listing.certifications(records)
            message = render_certifications(entries, self.freshness(), command=self.command, notice=notice)
        else:
            entries = listing.numbers(records)
            message = render_numbers(entries, command=self.command, notice=notice)
        log.info("catalogue %r on %s: %d entries for the %s audience", command, surface, len(entries),
                 decision.audience)
        return message

    def reply_later(self, asker: Asker, text: str, client: WebClient, context: BoltContext, *,
                    surface: str, for_everyone: bool, share_button: bool = False) -> Future[Reply]:
        """`reply` on the search pool, for a surface that must answer Slack by a deadline
        (the slash command's ack) and so cannot simply wait on the look-ups and the search."""
        return self.search_pool.submit(self.reply, asker, text, client, context, surface=surface,
                                       for_everyone=for_everyone, share_button=share_button)

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

    # -- never twice ------------------------------------------------------------------------

    def first_time(self, *keys: str | None) -> bool:
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

    def forget(self, key: str) -> None:
        """Release a claimed key (a share that failed may be clicked again)."""
        try:
            self.seen.forget(key)
        except Exception as error:
            log.warning("the de-dup record failed to forget a key (%s)", type(error).__name__)

    def first_delivery(self, body: dict[str, Any], channel: str, ts: str) -> bool:
        """Neither this event (a Slack retry) nor this message (another route) answered yet."""
        event_id = body.get("event_id")
        return self.first_time(f"event:{event_id}" if event_id else None, f"msg:{channel}:{ts}")
