"""The per-user limit: sliding window, the wait it announces, memory bound, threads."""

from __future__ import annotations

import sys
import threading
from collections import Counter

import pytest

from bot.ratelimit import RateDecision, RateLimiter, friendly_message


class Clock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


def test_the_limit_is_allowed_and_the_next_is_refused_with_the_wait():
    clock = Clock()
    limiter = RateLimiter(limit=20, window=60.0, clock=clock)
    for _ in range(20):
        assert limiter.check("U1") == RateDecision(True, 0.0)
        clock.now += 1
    decision = limiter.check("U1")
    assert decision.allowed is False
    assert decision.retry_after == pytest.approx(40.0)  # the first question leaves at 5060


def test_a_question_is_allowed_again_once_the_oldest_leaves_the_window():
    clock = Clock()
    limiter = RateLimiter(limit=3, window=60.0, clock=clock)
    for step in (0, 10, 20):
        clock.now = 5000.0 + step
        assert limiter.check("U1").allowed
    clock.now = 5059.9
    assert limiter.check("U1").retry_after == pytest.approx(0.1)
    clock.now = 5060.0
    assert limiter.check("U1").allowed
    assert limiter.check("U1").retry_after == pytest.approx(10.0)  # now the one at 5010


def test_the_window_slides_rather_than_resetting_at_fixed_boundaries():
    # Fixed one-minute buckets would allow 3 at 5059 and 3 more at 5060.
    clock = Clock()
    limiter = RateLimiter(limit=3, window=60.0, clock=clock)
    clock.now = 5059.0
    assert all(limiter.check("U1").allowed for _ in range(3))
    clock.now = 5061.0
    assert not limiter.check("U1").allowed


def test_refused_questions_do_not_extend_the_wait():
    clock = Clock()
    limiter = RateLimiter(limit=2, window=60.0, clock=clock)
    limiter.check("U1")
    limiter.check("U1")
    for _ in range(30):
        clock.now += 1
        assert not limiter.check("U1").allowed
    clock.now = 5060.0
    assert limiter.check("U1").allowed


def test_users_are_limited_separately():
    limiter = RateLimiter(limit=1, window=60.0, clock=Clock())
    assert limiter.check("U1").allowed
    assert not limiter.check("U1").allowed
    assert limiter.check("U2").allowed


def test_idle_users_are_forgotten():
    clock = Clock()
    limiter = RateLimiter(limit=5, window=60.0, clock=clock)
    for n in range(100):
        limiter.check(f"U{n}")
    assert len(limiter) == 100
    clock.now += 30
    limiter.check("U0")
    assert len(limiter) == 100
    clock.now += 31  # everyone but U0 idle for a whole window
    limiter.check("U-new")
    assert len(limiter) == 2


def test_memory_is_bounded_by_max_keys():
    limiter = RateLimiter(limit=5, window=60.0, clock=Clock(), max_keys=50)
    for n in range(1000):
        limiter.check(f"U{n}")
    assert len(limiter) == 50


def test_the_most_recently_active_keys_are_the_ones_kept():
    limiter = RateLimiter(limit=1, window=60.0, clock=Clock(), max_keys=2)
    limiter.check("U1")
    limiter.check("U2")
    limiter.check("U3")  # U1 goes
    assert not limiter.check("U3").allowed
    assert not limiter.check("U2").allowed
    assert limiter.check("U1").allowed


def test_threads_sharing_keys_get_exactly_the_limit_per_key():
    """16 threads ask about the same 300 keys in the same order, so every key is contended
    as it reaches its limit."""
    keys, limit, threads_n = [f"U{n}" for n in range(300)], 3, 16
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, as under load
    try:
        limiter = RateLimiter(limit=limit, window=60.0, clock=Clock())
        start = threading.Barrier(threads_n)
        allowed: list[str] = []
        errors: list[BaseException] = []
        lock = threading.Lock()

        def ask() -> None:
            try:
                start.wait(timeout=30)
                got = [key for key in keys for _ in range(2) if limiter.check(key).allowed]
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)
                return
            with lock:
                allowed.extend(got)

        threads = [threading.Thread(target=ask) for _ in range(threads_n)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        sys.setswitchinterval(interval)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert Counter(allowed) == {key: limit for key in keys}


@pytest.mark.parametrize("kwargs", [{"limit": 0}, {"window": 0}, {"max_keys": 0}])
def test_nonsense_settings_are_refused(kwargs):
    with pytest.raises(ValueError):
        RateLimiter(**kwargs)


@pytest.mark.parametrize("retry_after, seconds", [
    (40.0, "40 seconds"), (39.2, "40 seconds"), (30.0000001, "30 seconds"),
    (1.0, "1 second"), (0.2, "1 second"), (0.0, "1 second"),
])
def test_friendly_message_rounds_up_to_whole_seconds(retry_after, seconds):
    assert friendly_message(retry_after) == (
        f"You've asked a lot of questions in the last minute — try again in {seconds}.")
