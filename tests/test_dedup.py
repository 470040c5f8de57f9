"""Each key answered once: in memory, in SQLite across processes, in a real Redis."""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.dedup import (
    REDIS_PREFIX,
    REDIS_RETRY_INTERVAL,
    MemoryDeduplicator,
    MemorySeenRecord,
    RedisDeduplicator,
    SeenRecordAdapter,
    SqliteDeduplicator,
    make_deduplicator,
)
from redis_support import free_port, redis_server  # noqa: F401  (fixture)

JOIN_TIMEOUT = 60.0


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def race(first: Callable[[str], bool], key: str, threads: int = 32) -> list[bool]:
    """Every thread calls first(key) at once; returns what each got.

    The interpreter is made to switch threads as often as it can meanwhile, so a
    check-then-set without a lock is interrupted between check and set, as it would be
    under load, instead of almost never."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        return _race(first, key, threads)
    finally:
        sys.setswitchinterval(interval)


def _race(first: Callable[[str], bool], key: str, threads: int) -> list[bool]:
    start = threading.Barrier(threads)
    results: list[bool] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def call() -> None:
        try:
            start.wait(timeout=JOIN_TIMEOUT)
            got = first(key)
        except BaseException as error:  # noqa: BLE001 - reported below
            with lock:
                errors.append(error)
            return
        with lock:
            results.append(got)

    workers = [threading.Thread(target=call) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=JOIN_TIMEOUT)
    assert not any(w.is_alive() for w in workers), "a racing thread hung"
    assert errors == [], "a racing call raised"
    assert len(results) == threads
    return results


def race_through(first: Callable[[str], bool], keys: list[str], threads: int) -> Counter[str]:
    """Every thread calls first() on every key, in the same order; counts the Trues per key."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    start = threading.Barrier(threads)
    won: Counter[str] = Counter()
    errors: list[BaseException] = []
    lock = threading.Lock()

    def claim() -> None:
        try:
            start.wait(timeout=JOIN_TIMEOUT)
            mine = [key for key in keys if first(key)]
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
            return
        with lock:
            won.update(mine)

    try:
        workers = [threading.Thread(target=claim) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=JOIN_TIMEOUT)
    finally:
        sys.setswitchinterval(interval)
    assert not any(w.is_alive() for w in workers), "a racing thread hung"
    assert errors == [], "a racing call raised"
    return won


# --- memory --------------------------------------------------------------------------------


def test_memory_first_is_true_once_per_key():
    dedup = MemoryDeduplicator()
    assert dedup.first("event:Ev1") is True
    assert dedup.first("event:Ev1") is False
    assert dedup.first("event:Ev2") is True


def test_memory_threads_racing_on_one_key_get_exactly_one_true():
    dedup = MemoryDeduplicator()
    for n in range(20):
        assert race(dedup.first, f"key{n}").count(True) == 1


def test_memory_threads_racing_through_many_keys_get_one_true_each():
    """16 threads claim the same 3000 keys in the same order: each key contended as it is
    first recorded, 3000 times over."""
    keys = [f"event:Ev{n}" for n in range(3000)]
    dedup = MemoryDeduplicator()
    won = race_through(dedup.first, keys, threads=16)
    assert won == Counter(keys)


def test_memory_key_counts_as_new_after_its_ttl():
    clock = Clock()
    dedup = MemoryDeduplicator(ttl=3600, clock=clock)
    assert dedup.first("k")
    clock.now += 3599
    assert not dedup.first("k")
    clock.now += 2
    assert dedup.first("k")


def test_memory_prunes_expired_keys():
    clock = Clock()
    dedup = MemoryDeduplicator(ttl=10, clock=clock)
    for i in range(500):
        dedup.first(f"k{i}")
    assert len(dedup) == 500
    clock.now += 11
    dedup.first("new")
    assert len(dedup) == 1


def test_memory_is_bounded():
    dedup = MemoryDeduplicator(max_entries=100, clock=Clock())
    for i in range(1000):
        dedup.first(f"k{i}")
    assert len(dedup) <= 100
    assert not dedup.first("k999")  # the newest are the ones kept


def test_memory_forget_lets_a_key_be_answered_again():
    dedup = MemoryDeduplicator()
    dedup.first("k")
    dedup.forget("k")
    assert dedup.first("k")


def test_seen_record_interface_of_the_handlers_still_works():
    record = MemorySeenRecord(clock=Clock())
    assert record.seen("k") is False
    assert record.seen("k") is True
    record.forget("k")
    assert record.seen("k") is False
    assert len(record) == 1
    adapter = SeenRecordAdapter(MemoryDeduplicator())
    assert adapter.seen("k") is False and adapter.seen("k") is True


# --- SQLite --------------------------------------------------------------------------------


def test_sqlite_first_is_true_once_per_key(tmp_path):
    dedup = SqliteDeduplicator(tmp_path / "seen.db")
    assert dedup.first("event:Ev1") is True
    assert dedup.first("event:Ev1") is False
    assert dedup.first("event:Ev2") is True


def test_sqlite_record_survives_a_new_instance(tmp_path):
    SqliteDeduplicator(tmp_path / "seen.db").first("k")
    assert SqliteDeduplicator(tmp_path / "seen.db").first("k") is False


def test_sqlite_is_created_on_first_use_in_wal_mode(tmp_path):
    path = tmp_path / "new" / "dir" / "seen.db"
    dedup = SqliteDeduplicator(path)
    assert not path.exists()
    dedup.first("k")
    assert path.exists()
    import sqlite3
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_sqlite_threads_racing_on_one_key_get_exactly_one_true(tmp_path):
    dedup = SqliteDeduplicator(tmp_path / "seen.db")
    for n in range(10):
        assert race(dedup.first, f"key{n}", threads=16).count(True) == 1


def test_sqlite_key_counts_as_new_after_its_ttl(tmp_path):
    clock = Clock()
    dedup = SqliteDeduplicator(tmp_path / "seen.db", ttl=3600, clock=clock)
    assert dedup.first("k")
    clock.now += 3599
    assert not dedup.first("k")
    clock.now += 2
    assert dedup.first("k")
    assert not dedup.first("k")


def test_sqlite_prunes_expired_rows(tmp_path):
    clock = Clock()
    dedup = SqliteDeduplicator(tmp_path / "seen.db", ttl=60, clock=clock, prune_interval=300)
    for i in range(200):
        dedup.first(f"k{i}")
    assert dedup.count() == 200
    clock.now += 100  # expired, but the next prune is not due yet
    dedup.first("a")
    assert dedup.count() == 201
    clock.now += 250
    dedup.first("b")
    assert dedup.count() == 1


def test_sqlite_stores_no_raw_key(tmp_path):
    dedup = SqliteDeduplicator(tmp_path / "seen.db")
    dedup.first("share:C0CHAN:U0SECRETUSER:what is iso 27001")
    dedup.close()
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert b"U0SECRETUSER" not in stored and b"iso 27001" not in stored


def test_sqlite_forget(tmp_path):
    dedup = SqliteDeduplicator(tmp_path / "seen.db")
    dedup.first("k")
    dedup.forget("k")
    assert dedup.first("k")


def _race_in_process(path: str, keys: list[str], start, results) -> None:
    """Run in a spawned process: claim each key in lockstep with the other processes, so
    they all try the same key at the same moment."""
    dedup = SqliteDeduplicator(Path(path))
    dedup.first(f"warm-up:{multiprocessing.current_process().name}")  # connect before racing
    won = []
    for key in keys:
        start.wait(timeout=JOIN_TIMEOUT)
        if dedup.first(key):
            won.append(key)
    results.put(won)


def test_sqlite_processes_racing_on_the_same_keys_answer_each_once(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    processes, keys = 6, [f"event:Ev{i}" for i in range(300)]
    start, results = ctx.Barrier(processes), ctx.Queue()
    workers = [ctx.Process(target=_race_in_process,
                           args=(str(tmp_path / "seen.db"), keys, start, results))
               for _ in range(processes)]
    for worker in workers:
        worker.start()
    try:
        won = [results.get(timeout=JOIN_TIMEOUT) for _ in workers]
    finally:
        for worker in workers:
            worker.join(timeout=JOIN_TIMEOUT)
            if worker.is_alive():
                worker.kill()
    assert all(w.exitcode == 0 for w in workers)
    claims = Counter(key for keys_won in won for key in keys_won)
    assert claims == Counter(keys), "every key True exactly once across all processes"
    assert sum(1 for keys_won in won if keys_won) > 1, "the processes did not actually race"


def test_sqlite_fails_open_when_the_database_is_unusable(tmp_path, caplog):
    path = tmp_path / "seen.db"
    path.mkdir()  # a directory where the file should be: every query fails
    dedup = SqliteDeduplicator(path)
    with caplog.at_level(logging.WARNING, logger="bot.dedup"):
        assert dedup.first("k") is True
        assert dedup.first("k") is False  # still de-duplicated within this process
        assert dedup.first("k2") is True
    warnings = [r for r in caplog.records if "unavailable" in r.getMessage()]
    assert len(warnings) == 1


# --- make_deduplicator ---------------------------------------------------------------------


def test_make_deduplicator_picks_the_widest_record(tmp_path):
    assert isinstance(make_deduplicator(None, None), MemoryDeduplicator)
    assert isinstance(make_deduplicator("", None), MemoryDeduplicator)
    assert isinstance(make_deduplicator(None, tmp_path / "s.db"), SqliteDeduplicator)
    made = make_deduplicator("redis://127.0.0.1:1/0", tmp_path / "s.db")
    assert isinstance(made, RedisDeduplicator)
    made.close()


# --- Redis ---------------------------------------------------------------------------------


@pytest.fixture()
def redis_client(redis_server):
    import redis

    client = redis.Redis.from_url(redis_server.url, socket_timeout=2)
    yield client
    client.close()


def test_redis_first_is_true_once_per_key(redis_server):
    dedup = RedisDeduplicator(redis_server.url)
    assert dedup.first("event:Ev1") is True
    assert dedup.first("event:Ev1") is False
    assert dedup.first("event:Ev2") is True
    dedup.close()


def test_redis_replicas_share_the_record(redis_server):
    one, other = RedisDeduplicator(redis_server.url), RedisDeduplicator(redis_server.url)
    assert one.first("event:Ev1") is True
    assert other.first("event:Ev1") is False
    one.close(), other.close()


def test_redis_racing_replicas_get_exactly_one_true(redis_server):
    replicas = [RedisDeduplicator(redis_server.url) for _ in range(4)]
    for n in range(10):
        calls = iter(range(10_000))
        lock = threading.Lock()

        def first(key: str) -> bool:
            with lock:
                replica = replicas[next(calls) % len(replicas)]
            return replica.first(key)

        assert race(first, f"key{n}", threads=16).count(True) == 1
    for replica in replicas:
        replica.close()


def test_redis_keys_are_prefixed_hashed_and_expire(redis_server, redis_client):
    dedup = RedisDeduplicator(redis_server.url, ttl=120)
    dedup.first("share:C0CHAN:U0SECRETUSER:what is iso 27001")
    (name,) = redis_client.keys("*")
    assert name.startswith(REDIS_PREFIX.encode())
    assert b"U0SECRETUSER" not in name
    assert 0 < redis_client.ttl(name) <= 120
    dedup.close()


def test_redis_key_counts_as_new_after_its_ttl(redis_server):
    dedup = RedisDeduplicator(redis_server.url, ttl=1)
    assert dedup.first("k")
    assert not dedup.first("k")
    time.sleep(1.2)
    assert dedup.first("k")
    dedup.close()


def test_redis_forget(redis_server):
    dedup = RedisDeduplicator(redis_server.url)
    dedup.first("k")
    dedup.forget("k")
    assert RedisDeduplicator(redis_server.url).first("k")
    dedup.close()


def test_redis_unreachable_fails_open_quickly_and_warns_once(caplog):
    dedup = RedisDeduplicator(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="bot.dedup"):
        assert dedup.first("k") is True           # answered anyway
        assert dedup.first("k") is False          # but still only once in this process
        assert dedup.first("k2") is True
    assert time.monotonic() - started < 3
    warnings = [r for r in caplog.records if "unavailable" in r.getMessage()]
    assert len(warnings) == 1
    assert "127.0.0.1" not in caplog.text  # the URL (which may hold a password) is not logged
    dedup.close()


def test_redis_outage_and_recovery(redis_server, caplog):
    clock = Clock()
    dedup = RedisDeduplicator(redis_server.url, clock=clock)
    assert dedup.first("before") is True
    port = redis_server.port
    redis_server.stop()
    with caplog.at_level(logging.WARNING, logger="bot.dedup"):
        assert dedup.first("before") is False    # this process remembers it
        assert dedup.first("during") is True     # fail open
        assert dedup.first("during") is False
        redis_server.start(port)                 # empty again: no persistence
        clock.now += REDIS_RETRY_INTERVAL        # Redis is retried once per interval, not per key
        assert dedup.first("after") is True
        assert dedup.first("after") is False
    assert "available again" in caplog.text
    dedup.close()


# --- Redis down: the machine's workers fall back to the shared SQLite record -------------------
#
# Two instances in one test stand for two gunicorn workers: each has its own memory, and all
# they share is what a worker shares with another, Redis and the SQLite file.


def _in_redis(client, key: str) -> bool:
    return bool(client.exists(REDIS_PREFIX + hashlib.sha256(key.encode()).hexdigest()))


def test_redis_dead_at_start_up_workers_share_the_sqlite_record(tmp_path):
    from bot.app import shared_seen_record
    from bot.settings import Settings

    # As each worker builds its record: from REDIS_URL and CERTDESK_DB (nothing listens there).
    settings = Settings.from_env({"REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
                                  "CERTDESK_DB": str(tmp_path / "state" / "certdesk.sqlite3")})
    one, other = shared_seen_record(settings), shared_seen_record(settings)
    assert one.seen("event:Ev1") is False
    assert other.seen("event:Ev1") is True          # the retry on the other worker
    assert other.seen("event:Ev2") is False
    assert one.seen("event:Ev2") is True
    other.forget("event:Ev2")                        # its attempt failed: released for both
    assert one.seen("event:Ev2") is False
    assert settings.dedup_path.exists()


def test_threads_of_two_workers_racing_into_a_redis_outage_answer_once(tmp_path):
    """Exactly one True per key, never two (each worker on its own) and never none (memory
    and disk each picking a different winner)."""
    url, path = f"redis://127.0.0.1:{free_port()}/0", tmp_path / "seen.sqlite3"
    for n in range(10):
        workers = [make_deduplicator(url, path), make_deduplicator(url, path)]  # fresh: "up"
        assert race(_taking_turns(workers), f"key{n}", threads=16).count(True) == 1
        for worker in workers:
            worker.close()


def _taking_turns(dedups: list) -> Callable[[str], bool]:
    """A `first` that hands successive calls to each of `dedups` in turn."""
    calls, lock = iter(range(10_000)), threading.Lock()

    def first(key: str) -> bool:
        with lock:
            dedup = dedups[next(calls) % len(dedups)]
        return dedup.first(key)

    return first


def test_redis_killed_mid_run_workers_share_the_sqlite_record(redis_server, tmp_path):
    path = tmp_path / "state" / "seen.sqlite3"
    one, other = make_deduplicator(redis_server.url, path), make_deduplicator(redis_server.url, path)
    assert one.first("before") is True
    assert not path.exists()                         # SQLite is untouched while Redis answers
    redis_server.kill()
    assert one.first("before") is False              # this worker remembers what it claimed
    assert one.first("during") is True
    assert other.first("during") is False            # the other worker sees it on disk
    assert other.first("during2") is True
    assert one.first("during2") is False
    one.close(), other.close()


def test_redis_back_new_keys_go_to_redis_again_after_the_retry_interval(redis_server, redis_client,
                                                                         tmp_path):
    clock = Clock()
    path = tmp_path / "seen.sqlite3"
    one = RedisDeduplicator(redis_server.url, sqlite_path=path, retry_interval=5, clock=clock)
    other = RedisDeduplicator(redis_server.url, sqlite_path=path, retry_interval=5, clock=clock)
    port = redis_server.port
    redis_server.kill()
    assert one.first("during") is True
    assert other.first("during") is False
    redis_server.start(port)                         # back, and empty: no persistence
    redis_client.connection_pool.disconnect()
    # Not retried on every key: until the interval has passed, the disk still decides.
    clock.now += 4
    assert one.first("not-yet") is True
    assert other.first("not-yet") is False
    assert redis_client.keys("*") == []
    clock.now += 1
    assert one.first("after") is True
    assert _in_redis(redis_client, "after")
    # What was claimed on disk during the outage went to Redis with it, so a Slack retry of it
    # reaching a replica (or a worker) that asks Redis is not answered again.
    assert _in_redis(redis_client, "during") and _in_redis(redis_client, "not-yet")
    assert 0 < redis_client.ttl(REDIS_PREFIX + hashlib.sha256(b"during").hexdigest()) <= 3600
    fresh = RedisDeduplicator(redis_server.url)
    assert fresh.first("during") is False and fresh.first("after") is False
    assert fresh.first("new") is True and one.first("new") is False
    one.close(), other.close(), fresh.close()


def test_redis_outage_and_return_are_logged_once_each(redis_server, tmp_path, caplog):
    clock = Clock()
    dedup = RedisDeduplicator(redis_server.url, sqlite_path=tmp_path / "seen.sqlite3",
                              retry_interval=5, clock=clock)
    port = redis_server.port
    with caplog.at_level(logging.INFO, logger="bot.dedup"):
        dedup.first("before")
        redis_server.kill()
        for n in range(20):                          # many keys, several failed retries
            dedup.first(f"during{n}")
            dedup.forget(f"during{n}")
            clock.now += 1
        redis_server.start(port)
        clock.now += 5
        for n in range(20):
            dedup.first(f"after{n}")
    down = [r for r in caplog.records if "unavailable" in r.getMessage()]
    back = [r for r in caplog.records if "available again" in r.getMessage()]
    assert len(down) == 1 and len(back) == 1
    assert down[0].levelno == logging.WARNING and back[0].levelno == logging.WARNING
    assert "SQLite" in down[0].getMessage()          # says where it de-duplicates meanwhile
    assert "127.0.0.1" not in caplog.text            # the URL may hold a password
    dedup.close()
