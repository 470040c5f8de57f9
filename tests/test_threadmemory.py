"""bot/threadmemory.py: what each Slack thread was last answered about, shared and lasting.

Two store instances on one file, one Redis or one database stand for two worker processes or
replicas: each has its own connections and memory, and all they share is the store. Redis and
PostgreSQL are real servers on 127.0.0.1 (skipped, with the reason, when not installed).
"""

from __future__ import annotations

import logging
import sqlite3
import time

import pytest
from postgres_support import postgres_server, postgres_url  # noqa: F401  (fixtures)
from redis_support import free_port, redis_server  # noqa: F401  (fixture)

from bot.threadmemory import (
    REDIS_PREFIX,
    RETRY_INTERVAL,
    MemoryThreadMemory,
    RedisThreadMemory,
    SqliteThreadMemory,
    make_thread_memory,
    thread_key,
)
from index.followup import Earlier

TISAX = Earlier("TISAX assessment level?", "TISAX")
OSPAR = Earlier("certificate number for OSPAR", "OSPAR")
T0 = 1_790_000_000.0


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_memory_recalls_per_channel_and_thread_and_keeps_the_latest() -> None:
    memory = MemoryThreadMemory()
    memory.remember("C1", "1.1", TISAX)
    assert memory.recall("C1", "1.1") == TISAX
    assert memory.recall("C1", "1.2") is None and memory.recall("C2", "1.1") is None
    memory.remember("C1", "1.1", OSPAR)
    assert memory.recall("C1", "1.1") == OSPAR


def test_sqlite_is_shared_by_two_instances_and_survives_them(tmp_path) -> None:
    path = tmp_path / "threads.sqlite3"
    one, other = SqliteThreadMemory(path), SqliteThreadMemory(path)
    one.remember("C1", "1.1", TISAX)
    assert other.recall("C1", "1.1") == TISAX           # another worker
    other.remember("C1", "1.1", OSPAR)
    assert SqliteThreadMemory(path).recall("C1", "1.1") == OSPAR   # after a restart
    assert other.recall("C2", "1.1") is None


def test_sqlite_entries_expire_and_are_pruned(tmp_path) -> None:
    clock = Clock()
    memory = SqliteThreadMemory(tmp_path / "threads.sqlite3", ttl=60, clock=clock, prune_interval=0)
    memory.remember("C1", "1.1", TISAX)
    clock.now += 59
    assert memory.recall("C1", "1.1") == TISAX
    clock.now += 2
    assert memory.recall("C1", "1.1") is None
    memory.remember("C1", "2.2", OSPAR)                  # pruning runs on a write
    with sqlite3.connect(tmp_path / "threads.sqlite3") as conn:
        assert conn.execute("SELECT COUNT(*) FROM threads").fetchone()[0] == 1


def test_sqlite_stores_no_channel_or_thread_in_the_clear(tmp_path) -> None:
    path = tmp_path / "threads.sqlite3"
    SqliteThreadMemory(path).remember("C0SECRETCHAN", "1700000000.123456", TISAX)
    with sqlite3.connect(path) as conn:
        (key,) = conn.execute("SELECT key FROM threads").fetchone()
    assert key == thread_key("C0SECRETCHAN", "1700000000.123456")
    assert b"C0SECRETCHAN" not in path.read_bytes() and b"1700000000.123456" not in path.read_bytes()


def test_sqlite_that_cannot_be_opened_answers_nothing_and_warns_once(tmp_path, caplog) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    memory = SqliteThreadMemory(blocker / "threads.sqlite3")
    with caplog.at_level(logging.WARNING, logger="bot.threadmemory"):
        memory.remember("C1", "1.1", TISAX)                 # no exception: answers go on
        assert memory.recall("C1", "1.1") is None
        assert memory.recall("C1", "1.1") is None
    assert [r.getMessage() for r in caplog.records if "unavailable" in r.getMessage()] == [
        "SQLite thread memory unavailable (FileExistsError): follow-ups are answered as new questions"]


def test_an_unreadable_value_is_no_context(tmp_path) -> None:
    path = tmp_path / "threads.sqlite3"
    memory = SqliteThreadMemory(path)
    memory.remember("C1", "1.1", TISAX)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE threads SET value = 'not json'")
    assert memory.recall("C1", "1.1") is None


def test_make_thread_memory_picks_the_widest_lasting_store(tmp_path) -> None:
    path = tmp_path / "threads.sqlite3"
    assert isinstance(make_thread_memory(None, path), SqliteThreadMemory)
    redis = make_thread_memory(f"redis://127.0.0.1:{free_port()}/0", path)
    assert isinstance(redis, RedisThreadMemory)
    redis.close()


# --- Redis ------------------------------------------------------------------------------------


def test_redis_is_shared_by_replicas_with_a_time_to_live(redis_server) -> None:
    import redis

    one, other = RedisThreadMemory(redis_server.url, ttl=120), RedisThreadMemory(redis_server.url)
    one.remember("C1", "1.1", TISAX)
    assert other.recall("C1", "1.1") == TISAX
    assert other.recall("C1", "9.9") is None
    client = redis.Redis.from_url(redis_server.url)
    assert 0 < client.ttl(REDIS_PREFIX + thread_key("C1", "1.1")) <= 120
    client.close()
    one.close()
    other.close()


def test_redis_outage_uses_the_machines_sqlite_file_and_keeps_it_after(redis_server, tmp_path, caplog) -> None:
    clock = Clock()
    fallback = SqliteThreadMemory(tmp_path / "threads.sqlite3")
    memory = RedisThreadMemory(redis_server.url, fallback=fallback, clock=clock)
    memory.remember("C1", "before", TISAX)
    assert not fallback.path.exists()                   # made only when Redis fails
    port = redis_server.port
    redis_server.stop()
    with caplog.at_level(logging.WARNING, logger="bot.threadmemory"):
        memory.remember("C1", "during", OSPAR)
        # Another worker of this machine, during the outage: the SQLite file answers.
        assert SqliteThreadMemory(fallback.path).recall("C1", "during") == OSPAR
        redis_server.start(port)                        # back, and empty (no persistence)
        clock.now += RETRY_INTERVAL
        assert memory.recall("C1", "during") == OSPAR   # remembered during the outage: kept
        memory.remember("C1", "after", TISAX)
    assert RedisThreadMemory(redis_server.url).recall("C1", "after") == TISAX  # Redis again
    messages = [r.getMessage() for r in caplog.records]
    assert sum("unavailable" in m for m in messages) == 1 and sum("available again" in m for m in messages) == 1
    assert "127.0.0.1" not in caplog.text
    memory.close()


# --- PostgreSQL -------------------------------------------------------------------------------


def test_postgres_is_shared_by_replicas_expires_and_lasts(postgres_url) -> None:
    from bot.pgstore import PostgresThreadMemory

    clock = Clock(time.time())     # `one` reads the real time
    one = make_thread_memory(None, postgres_url)
    assert isinstance(one, PostgresThreadMemory)
    other = PostgresThreadMemory(postgres_url, ttl=60, clock=clock, prune_interval=0)
    one.remember("C1", "1.1", OSPAR)
    assert other.recall("C1", "1.1") == OSPAR
    assert other.recall("C2", "1.1") is None
    other.remember("C1", "2.2", TISAX)                    # for 60 s by its clock
    assert one.recall("C1", "2.2") == TISAX
    clock.now += 61
    assert other.recall("C1", "2.2") is None
    one.close()
    other.close()
    assert PostgresThreadMemory(postgres_url).recall("C1", "1.1") == OSPAR   # a restart keeps it


def test_postgres_unreachable_answers_nothing_and_warns_once(caplog) -> None:
    from bot.pgstore import PostgresThreadMemory

    url = f"postgresql://certdesk:hunter2secret@127.0.0.1:{free_port()}/certdesk"
    memory = PostgresThreadMemory(url)
    with caplog.at_level(logging.WARNING, logger="bot.threadmemory"):
        memory.remember("C1", "1.1", TISAX)
        assert memory.recall("C1", "1.1") is None
    assert sum("unavailable" in r.getMessage() for r in caplog.records) == 1
    assert "hunter2secret" not in caplog.text
    memory.close()
