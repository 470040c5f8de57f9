"""A small bounded map whose entries expire: the one shape behind de-dup and lookup caches.

Entries are kept in insertion order; with one time-to-live that is also expiry order, so
pruning stops at the first live entry. When full, the oldest entry goes even if it has not
expired yet (logged once): a flood must not grow memory without bound. Thread-safe.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

V = TypeVar("V")


class TTLCache(Generic[V]):
    def __init__(self, ttl: float, *, max_entries: int, clock: Callable[[], float] = time.monotonic,
                 name: str = "cache") -> None:
        if ttl <= 0 or max_entries < 1:
            raise ValueError("ttl must be positive and max_entries at least 1")
        self._ttl = ttl
        self._max = max_entries
        self._clock = clock
        self._name = name
        self._entries: OrderedDict[str, tuple[float, V]] = OrderedDict()   # oldest first
        self._lock = threading.Lock()
        self._warned_full = False

    def _prune(self, now: float, room_for: int = 0) -> None:
        """Drop expired entries, and the oldest live ones past the bound. Holds the lock."""
        while self._entries:
            oldest, (expires, _) = next(iter(self._entries.items()))
            if expires > now and len(self._entries) + room_for <= self._max:
                return
            if expires > now and not self._warned_full:
                self._warned_full = True
                log.warning("%s full (%d entries): forgetting live entries early", self._name, self._max)
            del self._entries[oldest]

    def get(self, key: str) -> V | None:
        """The live value, or None when absent or expired."""
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= now:
                del self._entries[key]
                return None
            return entry[1]

    def put(self, key: str, value: V) -> None:
        """Set `key`, with a fresh time-to-live."""
        now = self._clock()
        with self._lock:
            self._entries.pop(key, None)     # re-inserted last: keeps expiry order
            self._prune(now, room_for=1)
            self._entries[key] = (now + self._ttl, value)

    def add(self, key: str, value: V) -> bool:
        """Set `key` only if it has no live value; True if it was set (atomic)."""
        now = self._clock()
        with self._lock:
            self._prune(now, room_for=1)
            if key in self._entries:
                return False
            self._entries[key] = (now + self._ttl, value)
            return True

    def pop(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
