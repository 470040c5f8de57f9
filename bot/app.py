"""The Bolt app: one `create_app(settings, engine)` used by HTTP (gunicorn) and Socket Mode alike.

What is decided here rather than in the listeners (bot/surfaces/) or bot/answering.py:

* The Web API client retries what is safe to retry, inside slack-sdk, and says so in the log:
  429 after its Retry-After, 500/503 with a short backoff, and connection failures. A request
  that may already have reached Slack (a read timeout, a connection dropped mid-answer) is
  retried only for methods that do not post: a duplicated answer in a channel shared with
  customers is worse than a missing one, which the log reports.
* Listeners run on a pool large enough that a handful of rate-limited posts (sleeping on
  Retry-After) cannot delay the 3-second ack of a slash command queued behind them.
* Bolt's request verification and "ignore my own events" stay on.
* The trust-and-safety parts (`answering.Safety`) are built from Settings here: the audience
  policy's inputs, the per-user rate limit, the look-up caches, the question log and its
  user-id salt, and the de-dup record shared by every worker (`REDIS_URL`, else SQLite next
  to the question log). With CERTDESK_DB a PostgreSQL URL, the question log, the generated
  salt and the de-dup record (Redis's fallback) are tables in that database instead, shared
  by every replica. What each thread was answered about, for follow-ups, is kept alongside
  (bot/threadmemory.py).
* users.info / conversations.info go through their own client: a short timeout and no waiting
  on a 429, because a look-up that fails only narrows the answer to public documents, while
  one that waits would hold up the answer itself.
"""

from __future__ import annotations

import logging
import os
import random
import re
import secrets
from concurrent.futures import Executor, ThreadPoolExecutor
from http.client import RemoteDisconnected
from pathlib import Path
from urllib.error import URLError

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.jitter import Jitter
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from . import surfaces
from .answering import AnswerService, AnswerSource, Safety
from .dedup import SeenRecord, SeenRecordAdapter, make_deduplicator
from .metrics import Metrics
from .policy import ChannelInfoCache
from .questionlog import STORED_SALT, QuestionLog
from .ratelimit import RateLimiter
from .settings import MIN_SALT, Settings
from .slackcalls import user_cache
from .threadmemory import ThreadMemory, make_thread_memory

log = logging.getLogger(__name__)

API_TIMEOUT = 10            # seconds per Web API request (slack-sdk's default of 30 is a long silence)
RATE_LIMIT_RETRIES = 2
SERVER_ERROR_RETRIES = 2
CONNECTION_RETRIES = 2
MAX_RETRY_AFTER = 30        # a 429 asking us to wait longer than this is given up (and logged)
LISTENER_THREADS = 32       # Bolt's default of 5 lets slow posts hold up slash-command acks
# Searching is CPU-bound under the GIL, but a slash command's job also waits on its
# users.info / conversations.info look-ups (cached; LOOKUP_TIMEOUT at worst) before searching.
SEARCH_THREADS = 8
LOOKUP_TIMEOUT = 2          # seconds per users.info / conversations.info
LOOKUP_RETRIES = 1          # a 5xx or a failed connection, once; a 429 is not waited on

# Methods whose retry after an ambiguous failure could post the same message twice.
_POSTING_METHODS = frozenset({"chat.postMessage", "chat.postEphemeral", "chat.scheduleMessage",
                              "chat.meMessage", "files.upload", "files.completeUploadExternal"})


def _api_method(url: str) -> str:
    """`chat.postMessage` from `https://slack.com/api/chat.postMessage` (the URL holds no token)."""
    return re.sub(r"[?#].*$", "", url).rstrip("/").rsplit("/", 1)[-1]


class _ProportionalJitter(Jitter):
    """Up to half the interval again: spreads retries without adding a whole second to each."""

    def recalculate(self, duration: float) -> float:
        return duration * (1 + random.random() / 2)


_BACKOFF = BackoffRetryIntervalCalculator(backoff_factor=0.5, jitter=_ProportionalJitter())


class _LoggedRetries(RetryHandler):
    """Logs each retry (method and reason, never the request's headers or body)."""

    def prepare_for_next_attempt(self, *, state: RetryState, request: HttpRequest,
                                 response: HttpResponse | None = None,
                                 error: Exception | None = None) -> None:
        reason = f"HTTP {response.status_code}" if response is not None else type(error).__name__
        log.warning("Slack API %s: %s, retry %d of %d", _api_method(request.url), reason,
                    state.current_attempt + 1, self.max_retry_count)
        super().prepare_for_next_attempt(state=state, request=request, response=response, error=error)


class RateLimitRetry(_LoggedRetries, RateLimitErrorRetryHandler):
    """429: wait as long as Slack asks (slack-sdk's logic), unless that is unreasonably long."""

    def _can_retry(self, *, state: RetryState, request: HttpRequest,
                   response: HttpResponse | None = None, error: Exception | None = None) -> bool:
        if not super()._can_retry(state=state, request=request, response=response, error=error):
            return False
        assert response is not None
        after = next((v for k, v in response.headers.items() if k.lower() == "retry-after"), None)
        try:
            seconds = int((after[0] if isinstance(after, list) else after) or 1)
        except ValueError:
            seconds = 1
        if seconds > MAX_RETRY_AFTER:
            log.warning("Slack API %s: rate limited for %d s, not waiting", _api_method(request.url), seconds)
            return False
        return True


class ServerErrorRetry(_LoggedRetries, ServerErrorRetryHandler):
    """500/503 from Slack: retried with a short backoff."""


class ConnectionRetry(_LoggedRetries, ConnectionErrorRetryHandler):
    """Connection failures; after an ambiguous one, only methods that post nothing."""

    def __init__(self, max_retry_count: int = CONNECTION_RETRIES) -> None:
        super().__init__(max_retry_count=max_retry_count, interval_calculator=_BACKOFF,
                         error_types=[URLError, ConnectionResetError, RemoteDisconnected, TimeoutError])

    def _can_retry(self, *, state: RetryState, request: HttpRequest,
                   response: HttpResponse | None = None, error: Exception | None = None) -> bool:
        if not super()._can_retry(state=state, request=request, response=response, error=error):
            return False
        # urllib wraps failures while connecting and sending in URLError: Slack never saw
        # that request. Anything else happened while waiting for the answer.
        return isinstance(error, URLError) or _api_method(request.url) not in _POSTING_METHODS


def retry_handlers() -> list[RetryHandler]:
    return [
        RateLimitRetry(max_retry_count=RATE_LIMIT_RETRIES),
        ServerErrorRetry(max_retry_count=SERVER_ERROR_RETRIES, interval_calculator=_BACKOFF),
        ConnectionRetry(),
    ]


def web_client(settings: Settings) -> WebClient:
    """The bot's Web API client: settings.api_url (GovSlack, tests), short timeout, retries."""
    return WebClient(token=settings.bot_token, base_url=settings.api_url, timeout=API_TIMEOUT,
                     retry_handlers=retry_handlers())


def lookup_client(settings: Settings) -> WebClient:
    """The client for users.info / conversations.info: fails fast, never sleeps on a 429."""
    return WebClient(token=settings.bot_token, base_url=settings.api_url, timeout=LOOKUP_TIMEOUT,
                     retry_handlers=[ServerErrorRetry(max_retry_count=LOOKUP_RETRIES,
                                                      interval_calculator=_BACKOFF),
                                     ConnectionRetry(max_retry_count=LOOKUP_RETRIES)])


def shared_seen_record(settings: Settings) -> SeenRecord:
    """The de-dup record every worker process shares: Redis when REDIS_URL is set (replicas
    too), else a table in CERTDESK_DB's PostgreSQL database (every replica), else a SQLite
    file next to the question log (every process on this machine)."""
    return SeenRecordAdapter(make_deduplicator(settings.redis_url or None, settings.dedup_target))


def load_or_create_salt(path: Path) -> str:
    """The user-id salt kept at `path`, generated (64 hex digits, mode 0600) on first use.

    Made race-free for workers starting together: each writes a private temporary file and
    hard-links it into place, which fails if another was first; everyone then reads the one
    that won. A salt file readable by others is tightened to 0600, with a warning.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(tmp, path)
                log.info("generated a new user-id salt at %s", path)
            except FileExistsError:
                pass  # another worker was first: use its salt
        finally:
            tmp.unlink(missing_ok=True)
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        log.warning("%s was readable by others (mode %o); changed to 0600", path, mode)
        os.chmod(path, 0o600)
    salt = path.read_text(encoding="utf-8").strip()
    if len(salt.encode("utf-8")) < MIN_SALT:
        raise ValueError(f"the user-id salt in {path} is shorter than {MIN_SALT} characters")
    return salt


def open_question_log(settings: Settings) -> QuestionLog | None:
    """The question log at CERTDESK_DB, or None (logged) if its salt cannot be had: the bot
    then answers without recording, rather than not at all.

    In PostgreSQL, the generated salt is kept in the database (read on first use), so every
    replica hashes user ids alike, and a database that is down at start-up only delays it."""
    if settings.db_url:
        return QuestionLog(settings.db_url, salt=settings.user_salt or STORED_SALT)
    try:
        salt = settings.user_salt or load_or_create_salt(settings.salt_path)
        return QuestionLog(settings.db_path, salt=salt)
    except (OSError, ValueError) as error:
        log.warning("question log disabled: no user-id salt at %s (%s)", settings.salt_path,
                    type(error).__name__)
        return None


def safety_from(settings: Settings) -> Safety:
    return Safety(
        allowed_teams=settings.allowed_teams,
        home_team=settings.home_team,
        limiter=RateLimiter(settings.rate_limit),
        channels=ChannelInfoCache(),
        users=user_cache(),
        question_log=open_question_log(settings),
        lookups=lookup_client(settings),
    )


def create_app(settings: Settings, engine: AnswerSource, *,
               seen: SeenRecord | None = None, safety: Safety | None = None,
               verify_token: bool = True, listener_executor: Executor | None = None,
               search_pool: Executor | None = None, metrics: Metrics | None = None,
               threads: ThreadMemory | None = None) -> App:
    """A Bolt App answering from `engine`, with certdesk's listeners registered.

    verify_token=True calls auth.test now, so a wrong token fails here rather than at the
    first question. `seen` is the de-duplication record and `safety` the trust-and-safety
    parts; both are built from `settings` when not given. The two executors are created when
    not given; pass your own to shut them down (tests). `metrics` (CERTDESK_METRICS) counts
    every question; None counts nothing. `threads`, what each thread was answered about (for
    follow-ups), is built from `settings` when not given, shared like the de-dup record.
    """
    app = App(
        name="certdesk",
        # Bolt's own logger. Without one, Bolt copies the root logger's level *at that moment*
        # onto the "certdesk" logger on every request, which would pin certdesk.requests (the
        # operator's line per question) to whatever the level was when a request came in.
        logger=logging.getLogger("certdesk.slack"),
        client=web_client(settings),
        # Never None: Bolt would then read SLACK_SIGNING_SECRET itself, behind Settings' back.
        signing_secret=settings.signing_secret,
        token_verification_enabled=verify_token,
        listener_executor=listener_executor or ThreadPoolExecutor(
            max_workers=LISTENER_THREADS, thread_name_prefix="certdesk-listener"),
    )
    service = AnswerService(
        engine=engine, command=settings.command,
        seen=seen if seen is not None else shared_seen_record(settings),
        search_pool=search_pool or ThreadPoolExecutor(max_workers=SEARCH_THREADS,
                                                      thread_name_prefix="certdesk-search"),
        safety=safety if safety is not None else safety_from(settings),
        metrics=metrics, escalation=settings.escalation,
        threads=threads if threads is not None else make_thread_memory(settings.redis_url or None,
                                                                        settings.threads_target),
        stale_days=settings.stale_days)
    surfaces.register(app, service)
    return app
