"""A per-user question limit, so one runaway script or stuck key cannot drown the bot.

A sliding window (the times of each key's last `limit` accepted questions), not fixed
minute buckets: with buckets, 2 × limit questions fit across a bucket boundary, and the wait
we announce would be wrong. Refused questions are not counted, so someone who keeps asking
while limited is let back in on time. Memory is bounded: a key idle for a whole window is
forgotten (it could not be limited anyway), and past `max_keys` the least recently active
key goes. Per process: with several workers each enforces its own limit.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_LIMIT = 20
DEFAULT_WINDOW = 60.0
DEFAULT_MAX_KEYS = 10_000


@dataclass(frozen=True)
class RateDecision:
    """allowed, or not and how many seconds until the next question would be."""

    allowed: bool
    retry_after: float = 0.0


class RateLimiter:
    """`check(key)` once per question; thread-safe. The key is whatever identifies the asker
    (the handlers' user id); it is held in memory only and never logged."""

    def __init__(self, limit: int = DEFAULT_LIMIT, window: float = DEFAULT_WINDOW,
                 clock: Callable[[], float] = time.monotonic, *,
                 max_keys: int = DEFAULT_MAX_KEYS) -> None:
        if limit < 1 or window <= 0 or max_keys < 1:
            raise ValueError("limit and max_keys must be at least 1 and window positive")
        self._limit = limit
        self._window = window
        self._clock = clock
        self._max_keys = max_keys
        # key -> times of its accepted questions, oldest first; keys least recently active first
        self._times: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, key: str) -> RateDecision:
        """Count this question if it is within the limit; otherwise say how long to wait."""
        now = self._clock()
        with self._lock:
            self._forget_idle(now)
            times = self._times.get(key)
            if times is None:
                times = self._times[key] = deque()
            while times and times[0] <= now - self._window:
                times.popleft()
            if len(times) >= self._limit:
                return RateDecision(False, max(times[0] + self._window - now, 0.0))
            times.append(now)
            self._times.move_to_end(key)
            while len(self._times) > self._max_keys:
                self._times.popitem(last=False)
            return RateDecision(True, 0.0)

    def _forget_idle(self, now: float) -> None:
        """Drop keys whose newest question has left the window; the least recently active
        come first, so this stops at the first key still active."""
        while self._times:
            key, times = next(iter(self._times.items()))
            if times and times[-1] > now - self._window:
                return
            del self._times[key]

    def __len__(self) -> int:
        with self._lock:
            return len(self._times)


def friendly_message(retry_after: float) -> str:
    """What to tell a limited asker: whole seconds, rounded up, so trying then works."""
    seconds = max(1, math.ceil(round(retry_after, 3)))  # 30.0000001 is 30
    unit = "second" if seconds == 1 else "seconds"
    return f"You've asked a lot of questions in the last minute — try again in {seconds} {unit}."
