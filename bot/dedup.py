"""A record of what was already answered, so no Slack message is answered twice.

Slack redelivers an event it thinks we missed (same `event_id`, header `X-Slack-Retry-Num`),
and one message can reach us twice by different routes (a DM that also mentions the bot).
Handlers ask `first(key)` before answering: exactly one caller gets True per key until the
entry expires, however many threads, worker processes or replicas ask at once.

Where the record lives decides who shares it:
  MemoryDeduplicator     one process (the threads of one gunicorn worker).
  SqliteDeduplicator     every process on one machine (several gunicorn workers).
  PostgresDeduplicator   every replica using the PostgreSQL database of CERTDESK_DB
                         (bot/pgstore.py): it takes the SQLite record's place.
  RedisDeduplicator      every replica behind a load balancer.

When Redis cannot be reached, its record falls back to the SQLite one (so the machine's
workers still answer once), or to the PostgreSQL one (so every replica still does), and
returns to Redis when it answers again: see `RedisDeduplicator`. When no shared store can be
reached we answer anyway (fail open), still de-duplicating within the process. Keys may hold
user ids or question text (the share button's key does), so the shared stores keep only a
SHA-256 of each key, and no key is ever logged.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, Protocol

from .settings import is_postgres_url
from .ttlcache import TTLCache

log = logging.getLogger(__name__)

# Slack retries an event three times within about five minutes; an hour leaves room for a
# slow restart or a queue that drained late.
DEFAULT_TTL = 60 * 60.0
DEFAULT_MAX_ENTRIES = 50_000
REDIS_PREFIX = "certdesk:seen:"
# A question waits on this, so it is short: a Redis on the same network answers in a
# millisecond, and one that does not answer in half a second is treated as down.
REDIS_TIMEOUT = 0.5
# While Redis is down, one request every this many seconds checks whether it is back; the
# others go straight to the fallback instead of each waiting out a dead connection.
REDIS_RETRY_INTERVAL = 5.0
REDIS_COPY_BATCH = 1000     # keys per pipeline when the outage's keys are handed back to Redis
SQLITE_BUSY_TIMEOUT = 5.0
SQLITE_PRUNE_INTERVAL = 300.0


class Deduplicator(Protocol):
    def first(self, key: str) -> bool:
        """True exactly once per key within the time-to-live; records the key either way."""

    def forget(self, key: str) -> None:
        """Drop `key`, so an attempt that failed before answering can be tried again."""


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class MemoryDeduplicator:
    """Thread-safe, bounded, in-memory `Deduplicator`: enough for one process."""

    def __init__(self, ttl: float = DEFAULT_TTL, *, max_entries: int = DEFAULT_MAX_ENTRIES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._seen: TTLCache[bool] = TTLCache(ttl, max_entries=max_entries, clock=clock,
                                              name="de-dup record")

    def first(self, key: str) -> bool:
        return self._seen.add(key, True)

    def forget(self, key: str) -> None:
        self._seen.pop(key)

    def remembers(self, key: str) -> bool:
        """Whether `key` is recorded and live, without recording it."""
        return self._seen.get(key) is not None

    def __len__(self) -> int:
        return len(self._seen)


class _LocalFallback:
    """Per-process memory for while a shared store is down, which says so once per outage.

    Keys are recorded here too while the store works, so a Slack retry landing on this
    process during an outage is still caught. `instead` says, in the one warning, what
    decides meanwhile; `retry_interval` is how often `state` lets a caller try the store again.
    """

    def __init__(self, store: str, ttl: float, clock: Callable[[], float], *,
                 instead: str = "de-duplicating within this process only",
                 retry_interval: float = 0.0) -> None:
        self.memory = MemoryDeduplicator(ttl, clock=clock)
        self._store = store
        self._instead = instead
        self._clock = clock
        self._retry_interval = retry_interval
        self._retry_at = float("-inf")
        self._down = False
        self._lock = threading.Lock()

    def state(self) -> Literal["up", "retry", "down"]:
        """"up" while the store works; while it is down, "retry" for one caller per retry
        interval (who should check whether it is back) and "down" for everyone else."""
        with self._lock:
            if not self._down:
                return "up"
            now = self._clock()
            if now < self._retry_at:
                return "down"
            self._retry_at = now + self._retry_interval
            return "retry"

    def failed(self, error: BaseException) -> None:
        with self._lock:
            was_down, self._down = self._down, True
            self._retry_at = self._clock() + self._retry_interval
        if not was_down:  # the error's class only: a message could hold a URL with a password
            log.warning("%s de-dup unavailable (%s): answering anyway, %s", self._store,
                        type(error).__name__, self._instead)

    def worked(self) -> None:
        with self._lock:
            was_down, self._down = self._down, False
        if was_down:
            log.warning("%s de-dup available again", self._store)


class ExpiryPruner:
    """Deletes a table's expired rows now and then rather than on every write, for the stores
    whose rows expire (the de-dup record, the thread memory). A failed prune is only logged:
    nothing is lost, and the next one catches up."""

    def __init__(self, interval: float) -> None:
        self._interval = interval
        self._next = float("-inf")
        self._lock = threading.Lock()

    def prune(self, conn: Any, delete: str, now: float, errors: tuple[type[BaseException], ...],
              what: str) -> None:
        """Run `delete` (its one parameter: now) when the interval has passed since the last."""
        with self._lock:
            if now < self._next:
                return
            self._next = now + self._interval
        try:
            conn.execute(delete, (now,))
        except errors as error:
            log.warning("pruning %s failed (%s)", what, type(error).__name__)


class TableDeduplicator:
    """A `Deduplicator` in a database table, the one algorithm behind the SQLite and the
    PostgreSQL records (they differ only in how they connect, and how they write a parameter).

    One statement decides: an upsert that inserts the key, or revives it only if its entry
    has expired. The database runs conflicting writes one at a time, so exactly one caller
    changes the row and gets True. Times are wall-clock (`time.time`), because the table
    outlives processes and reboots, which monotonic clocks do not. A database error fails
    open, within this process, like Redis does (one warning per outage).
    """

    errors: tuple[type[BaseException], ...] = ()
    store = ""            # what the warnings call it: "SQLite", "PostgreSQL"
    table = "seen"
    mark = "?"            # the driver's parameter placeholder

    def __init__(self, ttl: float, clock: Callable[[], float], prune_interval: float) -> None:
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        self._ttl = ttl
        self._clock = clock
        self._pruner = ExpiryPruner(prune_interval)
        self._fallback = _LocalFallback(self.store, ttl, clock)

    def _connection(self) -> Any:
        raise NotImplementedError

    def _sql(self, statement: str) -> str:
        return statement.format(table=self.table, p=self.mark)

    def first(self, key: str) -> bool:
        now = self._clock()
        local_first = self._fallback.memory.first(key)
        try:
            conn = self._connection()
            changed = conn.execute(self._sql(
                "INSERT INTO {table} (key, expires) VALUES ({p}, {p}) ON CONFLICT (key) DO UPDATE"
                " SET expires = excluded.expires WHERE seen.expires <= {p}"),
                (_digest(key), now + self._ttl, now)).rowcount
        except self.errors as error:
            self._fallback.failed(error)
            return local_first
        self._fallback.worked()
        self._maybe_prune(conn, now)
        return changed == 1

    def _maybe_prune(self, conn: Any, now: float) -> None:
        """Drop expired rows every few minutes, so the table stays the size of an hour's events
        (a failure only logged: the key was already recorded, and the next prune catches up)."""
        self._pruner.prune(conn, self._sql("DELETE FROM {table} WHERE expires <= {p}"), now,
                           self.errors, f"the {self.store} de-dup record")

    def forget(self, key: str) -> None:
        self._fallback.memory.forget(key)
        try:
            self._connection().execute(self._sql("DELETE FROM {table} WHERE key = {p}"), (_digest(key),))
        except self.errors as error:
            self._fallback.failed(error)

    def unexpired(self) -> list[tuple[str, float]]:
        """(SHA-256 of the key, seconds it has left) for every live row: what `RedisDeduplicator`
        hands back to Redis after an outage."""
        now = self._clock()
        rows = self._connection().execute(
            self._sql("SELECT key, expires - {p} FROM {table} WHERE expires > {p}"), (now, now)).fetchall()
        return [(str(digest), float(left)) for digest, left in rows]

    def count(self) -> int:
        """Rows in the table, expired or not (for tests and diagnostics)."""
        row = self._connection().execute(self._sql("SELECT COUNT(*) FROM {table}")).fetchone()
        return int(row[0]) if row else 0


class SqliteDeduplicator(TableDeduplicator):
    """The table in a SQLite file, shared by every thread and process on one machine.

    WAL lets readers and the writer overlap; the busy timeout makes a writer wait its turn
    instead of failing.
    """

    errors = (sqlite3.Error, OSError)    # OSError: its directory cannot be made
    store = "SQLite"
    shared_by = "the SQLite record shared by this machine's workers"

    def __init__(self, path: Path | str, ttl: float = DEFAULT_TTL, *,
                 clock: Callable[[], float] = time.time,
                 prune_interval: float = SQLITE_PRUNE_INTERVAL) -> None:
        super().__init__(ttl, clock, prune_interval)
        self._path = Path(path)
        self._local = threading.local()

    @property
    def path(self) -> Path:
        return self._path

    def may_hold_keys(self) -> bool:
        """Whether forgetting a key, or handing keys back to Redis, must ask this record: only
        once the file exists (it is made on first use, so only if Redis ever went down)."""
        return self._path.exists()

    def _connection(self) -> sqlite3.Connection:
        return per_thread_connection(self._local, self._path, "CREATE TABLE IF NOT EXISTS seen"
                                     " (key TEXT PRIMARY KEY, expires REAL NOT NULL) WITHOUT ROWID")

    def close(self) -> None:
        """Close this thread's connection."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def per_thread_connection(local: threading.local, path: Path, schema: str) -> sqlite3.Connection:
    """This thread's connection to the SQLite file at `path`, opened on first use (and again
    after a fork, as a connection must not cross one), in WAL mode, with `schema` created."""
    conn: sqlite3.Connection | None = getattr(local, "conn", None)
    if conn is not None and local.pid == os.getpid():
        return conn
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT, isolation_level=None, check_same_thread=False)
    _set_wal(conn)
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(schema)
    local.conn, local.pid = conn, os.getpid()
    return conn


def _set_wal(conn: sqlite3.Connection, attempts: int = 50) -> None:
    """Switch to WAL, retrying: the switch needs a moment alone with the file, and SQLite can
    report "locked" for it without waiting on the busy timeout when processes start together."""
    for attempt in range(attempts):
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.05)


class SharedRecord(Deduplicator, Protocol):
    """What Redis falls back to: `SqliteDeduplicator` or `pgstore.PostgresDeduplicator`."""

    errors: tuple[type[BaseException], ...]
    shared_by: str

    def may_hold_keys(self) -> bool: ...
    def unexpired(self) -> list[tuple[str, float]]: ...
    def close(self) -> None: ...


class RedisDeduplicator:
    """A `Deduplicator` in Redis (`SET key 1 NX EX ttl`), shared by every replica.

    While Redis cannot be reached, the SQLite record at `sqlite_path` decides instead (the
    file `make_deduplicator` uses without Redis, shared by this machine's gunicorn workers),
    so a Slack retry landing on the other worker is still answered once. With CERTDESK_DB a
    PostgreSQL database, `record` is its table instead, and a retry landing on another
    replica is caught too. Per-process memory alone, as before, answered such a retry twice. Each process logs one warning when it
    falls back and one when Redis is back; only one request per `retry_interval` checks
    whether it is, the others go straight to disk rather than each waiting on a dead
    connection. The checking request first copies the keys claimed on disk during the
    outage into Redis (hashed, with the time they have left), so a retry of one of them
    that reaches a process asking Redis is not answered again.

    Still fail open: failing closed would silence the bot for every question while Redis is
    down. What the fallback cannot catch is a retry that lands on *another machine* during
    the outage (unless the fallback is PostgreSQL's), or on another worker for a key claimed in Redis just before it (every key
    Redis answered for is also kept in this process's memory, so a retry reaching this
    process is caught). Both are rare because Bolt acknowledges at once. Without
    `sqlite_path`, memory alone decides during an outage. Short timeouts and no client
    retries keep a dead Redis from delaying answers past Slack's patience.
    """

    def __init__(self, url: str, ttl: float = DEFAULT_TTL, *, sqlite_path: Path | str | None = None,
                 record: SharedRecord | None = None, prefix: str = REDIS_PREFIX,
                 timeout: float = REDIS_TIMEOUT, retry_interval: float = REDIS_RETRY_INTERVAL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        if ttl < 1:
            raise ValueError("ttl must be at least one second (Redis EX counts whole seconds)")
        self._ttl = int(ttl)
        self._prefix = prefix
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        # The URL may carry a password: it goes to the client and nowhere else.
        self._client = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0), health_check_interval=30)
        if record is not None and sqlite_path is not None:
            raise ValueError("give sqlite_path or record, not both")
        # Opened on first use only, so the file appears only if Redis ever went down.
        self._disk: SharedRecord | None = (
            record if record is not None
            else SqliteDeduplicator(sqlite_path, ttl) if sqlite_path is not None else None)
        instead = (f"de-duplicating through {self._disk.shared_by},"
                   f" and trying Redis again every {retry_interval:g} s" if self._disk is not None
                   else "de-duplicating within this process only")
        self._fallback = _LocalFallback("Redis", ttl, clock, instead=instead,
                                        retry_interval=retry_interval)

    def _name(self, key: str) -> str:
        return self._prefix + _digest(key)

    def _redis_usable(self) -> bool:
        """Whether to ask Redis now: while it works, yes; while it is down, only a caller
        whose turn it is to retry, and only once Redis answers and has the outage's keys."""
        state = self._fallback.state()
        if state != "retry":
            return state == "up"
        try:
            self._client.ping()
            self._copy_outage_keys()
        except self._errors:
            return False  # still down: the next retry is one interval away, and not logged
        self._fallback.worked()
        return True

    def _copy_outage_keys(self) -> None:
        """Hand the live keys of the fallback record to Redis, keeping any Redis already has."""
        if self._disk is None or not self._disk.may_hold_keys():
            return
        try:
            rows = self._disk.unexpired()
        except self._disk.errors as error:
            log.warning("reading %s failed (%s): Redis will not know the keys claimed while it "
                        "was down", self._disk.shared_by, type(error).__name__)
            return
        for start in range(0, len(rows), REDIS_COPY_BATCH):
            pipe = self._client.pipeline(transaction=False)
            for digest, left in rows[start:start + REDIS_COPY_BATCH]:
                pipe.set(self._prefix + digest, 1, nx=True, ex=max(1, math.ceil(left)))
            pipe.execute()

    def first(self, key: str) -> bool:
        if self._redis_usable():
            try:
                created: Any = self._client.set(self._name(key), 1, nx=True, ex=self._ttl)
            except self._errors as error:
                self._fallback.failed(error)
            else:
                # Remembered only once Redis has answered for it: a key that threads racing
                # into the outage put in memory would make memory and disk each pick a
                # different winner, and each veto the other's (nobody answers).
                self._fallback.memory.first(key)
                return bool(created)
        if self._disk is None:
            return self._fallback.memory.first(key)
        claimed = self._disk.first(key)  # records the key either way
        # Memory only vetoes: what was claimed on disk is the disk's to forget (on any worker).
        return claimed and not self._fallback.memory.remembers(key)

    def forget(self, key: str) -> None:
        self._fallback.memory.forget(key)
        if self._disk is not None and self._disk.may_hold_keys():
            self._disk.forget(key)
        if not self._redis_usable():
            return
        try:
            self._client.delete(self._name(key))
        except self._errors as error:
            self._fallback.failed(error)

    def close(self) -> None:
        self._client.close()
        if self._disk is not None:
            self._disk.close()


def make_deduplicator(redis_url: str | None, shared: Path | str | None, *,
                      ttl: float = DEFAULT_TTL) -> Deduplicator:
    """The widest record configured: Redis (replicas) over `shared` over memory.

    `shared` is a SQLite file (this machine's processes) or a postgresql:// URL (every
    replica; it may hold a password, so it is never logged). With Redis too, it stands in
    for Redis while Redis cannot be reached."""
    record: SharedRecord | None = None
    if is_postgres_url(shared):
        from .pgstore import PostgresDeduplicator

        record, where = PostgresDeduplicator(str(shared), ttl), "PostgreSQL (CERTDESK_DB)"
    elif shared is not None:
        record, where = SqliteDeduplicator(shared, ttl), f"SQLite at {shared}"
    if redis_url:
        if record is not None:
            log.info("de-dup record: Redis, or %s while it is down", where)
        else:
            log.info("de-dup record: Redis")
        return RedisDeduplicator(redis_url, ttl, record=record)
    if record is not None:
        log.info("de-dup record: %s", where)
        return record
    log.info("de-dup record: in memory (one process)")
    return MemoryDeduplicator(ttl)


# --- interim API, used by bot/app.py and bot/answering.py -----------------------------------


class SeenRecord(Protocol):
    def seen(self, key: str) -> bool:
        """True if `key` was recorded before (and has not expired); records it otherwise."""

    def forget(self, key: str) -> None:
        """Drop `key`, so a failed attempt can be retried by the user."""


class SeenRecordAdapter:
    """Any `Deduplicator` as a `SeenRecord`, so the answer service can take a shared record as is:
    `create_app(..., seen=SeenRecordAdapter(make_deduplicator(...)))`."""

    def __init__(self, dedup: Deduplicator) -> None:
        self.dedup = dedup

    def seen(self, key: str) -> bool:
        return not self.dedup.first(key)

    def forget(self, key: str) -> None:
        self.dedup.forget(key)


class MemorySeenRecord(SeenRecordAdapter):
    """Thread-safe, bounded, in-memory `SeenRecord` with a time-to-live per key."""

    def __init__(self, ttl: float = DEFAULT_TTL, max_entries: int = DEFAULT_MAX_ENTRIES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(MemoryDeduplicator(ttl, max_entries=max_entries, clock=clock))

    def __len__(self) -> int:
        return len(self.dedup)  # type: ignore[arg-type]
