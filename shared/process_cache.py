"""A per-process copy of rows that change rarely, kept so a hot path skips a database read.

Each entry is kept at most `ttl_s` seconds (None: until pushed out) and at most `size` entries
at once, the oldest written pushed out first. The copy is never the authority: whoever uses it
either accepts a bounded staleness (the time limit) or has the database check the copy's facts
in the same statement that writes (registration's one-statement sign-up).
"""

from __future__ import annotations

import time
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class ProcessCache(Generic[K, V]):
    """At most `size` entries, each for at most `ttl_s` seconds (None: no time limit)."""

    def __init__(self, *, size: int = 1024, ttl_s: float | None = None) -> None:
        if size < 1:
            raise ValueError("size must be at least 1")
        self.size = size
        self.ttl_s = ttl_s
        self._entries: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V | None:
        """The entry while it is younger than ttl_s, else None (and it is forgotten)."""
        found = self._entries.get(key)
        if found is None:
            return None
        written, value = found
        if self.ttl_s is not None and time.monotonic() - written >= self.ttl_s:
            del self._entries[key]
            return None
        return value

    def put(self, key: K, value: V) -> None:
        """Keeps (or refreshes) an entry; the oldest written goes when the copy is full."""
        self._entries.pop(key, None)
        if len(self._entries) >= self.size:
            del self._entries[next(iter(self._entries))]
        self._entries[key] = (time.monotonic(), value)

    def clear(self) -> None:
        """Forgets every entry: the next use reads the database again."""
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
