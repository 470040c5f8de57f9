"""What each Slack thread was last answered about, so a follow-up in it can be understood.

A follow-up ("what about block storage?") needs the thread's earlier question and the
certification that answered it (`index.followup.Earlier`). They are kept here, keyed by
(channel, thread), rather than read back from Slack with conversations.replies: that would
need four more *:history scopes (every message of every channel the bot is in) and another
Web API call, with its rate limit, on the answer path. What the bot itself answered is all
a follow-up needs, and the bot knows it already.

The record must be shared by whoever may receive the follow-up, so it lives where the de-dup
record does (bot/dedup.py), and survives a restart:

  PostgresThreadMemory   CERTDESK_DB is PostgreSQL: a table there (bot/pgstore.py), every replica.
  RedisThreadMemory      else with REDIS_URL: every replica; while Redis cannot be reached, the
                         SQLite file below stands in (and is read for what it holds after).
  SqliteThreadMemory     else `threads.sqlite3` beside the question log: every worker process of
                         this machine.
  MemoryThreadMemory     one process: tests, and what the answer service starts with.

Entries expire after THREAD_TTL (a month): a thread picked up later is answered as a new
question, which the answer shows (there is no "Follow-up to" line). Keys are SHA-256 digests of
(channel, thread); values are the question searched and a certification name, which the
question log keeps anyway. A store that fails is logged once per outage and never in an
answer's way: the follow-up is then answered as a question of its own.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from index.followup import Earlier

from .dedup import ExpiryPruner, per_thread_connection
from .settings import is_postgres_url
from .ttlcache import TTLCache

log = logging.getLogger(__name__)

THREAD_TTL = 30 * 24 * 60 * 60.0   # a sales thread is picked up again within days, not months
PRUNE_INTERVAL = 60 * 60.0         # expired rows are dropped at most this often per process
REDIS_PREFIX = "certdesk:thread:"
REDIS_TIMEOUT = 0.5                # as the de-dup record's: an answer waits on it
RETRY_INTERVAL = 5.0               # a store that failed is tried again after this long
MAX_ENTRIES = 50_000               # MemoryThreadMemory's bound


class ThreadMemory(Protocol):
    def recall(self, channel: str, thread: str) -> Earlier | None:
        """What the thread was last answered about; None if nothing (or the store failed)."""

    def remember(self, channel: str, thread: str, earlier: Earlier) -> None:
        """Record the thread's latest answer (never raises)."""


def thread_key(channel: str, thread: str) -> str:
    """The stored key: a digest, so the store holds no channel ids in the clear."""
    return hashlib.sha256(f"{channel}\x00{thread}".encode()).hexdigest()


def encode(earlier: Earlier) -> str:
    """JSON, whose escaping also keeps a NUL typed into a question out of PostgreSQL's TEXT."""
    return json.dumps({"question": earlier.question, "certification": earlier.certification},
                      ensure_ascii=False)


def decode(value: str | bytes | None) -> Earlier | None:
    """The stored value, or None for one this version cannot read (logged by the caller)."""
    if value is None:
        return None
    try:
        data = json.loads(value)
        return Earlier(question=str(data["question"]), certification=str(data["certification"]))
    except (ValueError, TypeError, KeyError):
        return None


class _Health:
    """A store's state in this process: one warning when it fails, one when it is back, and
    no new attempt for RETRY_INTERVAL after a failure (so answers do not each wait on it)."""

    def __init__(self, store: str, retry_interval: float = RETRY_INTERVAL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._store, self._retry_interval, self._clock = store, retry_interval, clock
        self._down_until: float | None = None
        self._lock = threading.Lock()

    def usable(self) -> bool:
        with self._lock:
            return self._down_until is None or self._clock() >= self._down_until

    def failed(self, error: BaseException, instead: str) -> None:
        with self._lock:
            was_down = self._down_until is not None
            self._down_until = self._clock() + self._retry_interval
        if not was_down:  # the class only: a message could hold a URL with a password
            log.warning("%s thread memory unavailable (%s): %s", self._store, type(error).__name__, instead)

    def worked(self) -> None:
        with self._lock:
            was_down, self._down_until = self._down_until is not None, None
        if was_down:
            log.warning("%s thread memory available again", self._store)


class MemoryThreadMemory:
    """One process's thread memory (bounded, with the same time-to-live)."""

    def __init__(self, ttl: float = THREAD_TTL, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: TTLCache[Earlier] = TTLCache(ttl, max_entries=max_entries, name="thread memory")

    def recall(self, channel: str, thread: str) -> Earlier | None:
        return self._entries.get(thread_key(channel, thread))

    def remember(self, channel: str, thread: str, earlier: Earlier) -> None:
        self._entries.put(thread_key(channel, thread), earlier)


class TableThreadMemory:
    """Thread memory in a database table: the one algorithm behind the SQLite and PostgreSQL
    stores, which differ in how they connect and how they write a parameter."""

    errors: tuple[type[BaseException], ...] = ()
    store = ""
    table = "threads"
    mark = "?"
    instead = "follow-ups are answered as new questions"

    def __init__(self, ttl: float, clock: Callable[[], float], prune_interval: float) -> None:
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        self._ttl, self._clock = ttl, clock
        self._pruner = ExpiryPruner(prune_interval)
        self._health = _Health(self.store)

    def _connection(self) -> Any:
        raise NotImplementedError

    def _sql(self, statement: str) -> str:
        return statement.format(table=self.table, p=self.mark)

    def recall(self, channel: str, thread: str) -> Earlier | None:
        if not self._health.usable():
            return None
        try:
            row = self._connection().execute(
                self._sql("SELECT value FROM {table} WHERE key = {p} AND expires > {p}"),
                (thread_key(channel, thread), self._clock())).fetchone()
        except self.errors as error:
            self._health.failed(error, self.instead)
            return None
        self._health.worked()
        return decode(row[0]) if row else None

    def remember(self, channel: str, thread: str, earlier: Earlier) -> None:
        if not self._health.usable():
            return
        now = self._clock()
        try:
            conn = self._connection()
            conn.execute(self._sql(
                "INSERT INTO {table} (key, value, expires) VALUES ({p}, {p}, {p}) ON CONFLICT (key)"
                " DO UPDATE SET value = excluded.value, expires = excluded.expires"),
                (thread_key(channel, thread), encode(earlier), now + self._ttl))
        except self.errors as error:
            self._health.failed(error, self.instead)
            return
        self._health.worked()
        self._maybe_prune(conn, now)

    def _maybe_prune(self, conn: Any, now: float) -> None:
        """Drop expired rows now and then, so the table stays the size of a month's threads."""
        self._pruner.prune(conn, self._sql("DELETE FROM {table} WHERE expires <= {p}"), now,
                           self.errors, f"the {self.store} thread memory")


class SqliteThreadMemory(TableThreadMemory):
    """The table in a SQLite file, shared by every thread and process on one machine."""

    errors = (sqlite3.Error, OSError)    # OSError: its directory cannot be made
    store = "SQLite"

    def __init__(self, path: Path | str, ttl: float = THREAD_TTL, *,
                 clock: Callable[[], float] = time.time, prune_interval: float = PRUNE_INTERVAL) -> None:
        super().__init__(ttl, clock, prune_interval)
        self._path = Path(path)
        self._local = threading.local()

    @property
    def path(self) -> Path:
        return self._path

    def _connection(self) -> sqlite3.Connection:
        return per_thread_connection(self._local, self._path, "CREATE TABLE IF NOT EXISTS threads"
                                     " (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires REAL NOT NULL)"
                                     " WITHOUT ROWID")


class RedisThreadMemory:
    """Thread memory in Redis (`SET key value EX ttl`), shared by every replica.

    While Redis cannot be reached, `fallback` (the machine's SQLite file) is written and read
    instead; once Redis is back, a thread Redis does not know is still looked up there, so a
    thread answered during the outage keeps its context.
    """

    def __init__(self, url: str, ttl: float = THREAD_TTL, *, fallback: TableThreadMemory | None = None,
                 prefix: str = REDIS_PREFIX, timeout: float = REDIS_TIMEOUT,
                 retry_interval: float = RETRY_INTERVAL, clock: Callable[[], float] = time.monotonic) -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        if ttl < 1:
            raise ValueError("ttl must be at least one second (Redis EX counts whole seconds)")
        self._ttl, self._prefix, self._fallback = int(ttl), prefix, fallback
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        # The URL may carry a password: it goes to the client and nowhere else.
        self._client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                            retry=Retry(NoBackoff(), 0), health_check_interval=30)
        self._health = _Health("Redis", retry_interval, clock)
        self._instead = ("using the SQLite thread memory of this machine meanwhile" if fallback is not None
                         else "follow-ups are answered as new questions")

    def recall(self, channel: str, thread: str) -> Earlier | None:
        if self._health.usable():
            try:
                value = self._client.get(self._prefix + thread_key(channel, thread))
            except self._errors as error:
                self._health.failed(error, self._instead)
            else:
                self._health.worked()
                found = decode(value)
                if found is not None or not self._fallback_holds_entries():
                    return found
        return self._fallback.recall(channel, thread) if self._fallback is not None else None

    def remember(self, channel: str, thread: str, earlier: Earlier) -> None:
        if self._health.usable():
            try:
                self._client.set(self._prefix + thread_key(channel, thread), encode(earlier), ex=self._ttl)
            except self._errors as error:
                self._health.failed(error, self._instead)
            else:
                self._health.worked()
                return
        if self._fallback is not None:
            self._fallback.remember(channel, thread, earlier)

    def _fallback_holds_entries(self) -> bool:
        """Whether the fallback may know threads Redis does not: only once its file exists."""
        path = getattr(self._fallback, "path", None)
        return path is not None and Path(path).exists()

    def close(self) -> None:
        self._client.close()


def make_thread_memory(redis_url: str | None, target: Path | str) -> ThreadMemory:
    """The thread memory every process that may receive a follow-up shares: PostgreSQL when
    `target` is its URL (lasting, every replica), else Redis with `target`'s SQLite file as its
    stand-in, else that file (this machine's workers)."""
    if is_postgres_url(target):
        from .pgstore import PostgresThreadMemory

        log.info("thread memory: PostgreSQL (CERTDESK_DB)")
        return PostgresThreadMemory(str(target))
    local = SqliteThreadMemory(target)
    if redis_url:
        log.info("thread memory: Redis, or SQLite at %s while it is down", target)
        return RedisThreadMemory(redis_url, fallback=local)
    log.info("thread memory: SQLite at %s", target)
    return local
