"""An in-process token bucket: at most N messages per minute per sender number."""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    """Holds up to `per_minute` tokens, refilled evenly over a minute (bursts up to the cap).

    Each process has its own buckets: several replicas together may send replicas x N per
    minute from one number.
    """

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.clock = clock
        self.tokens = self.capacity
        self.updated = clock()

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def available(self) -> int:
        """Returns how many whole tokens can be taken now."""
        self._refill()
        return int(self.tokens)

    def take(self) -> bool:
        """Takes one token; returns False (taking nothing) when the bucket is empty."""
        self._refill()
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def wait_s(self) -> float:
        """Seconds until one token is available (0 when one is)."""
        self._refill()
        return max(0.0, (1 - self.tokens) / self.rate)


class SenderLimits:
    """One token bucket per sender number."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.buckets: dict[str, TokenBucket] = {}

    def bucket(self, sender_id: str) -> TokenBucket:
        """Returns the bucket of a sender, creating it full."""
        if sender_id not in self.buckets:
            self.buckets[sender_id] = TokenBucket(self.per_minute)
        return self.buckets[sender_id]
