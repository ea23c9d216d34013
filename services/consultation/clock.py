"""The service's clock: real UTC time, which tests can move forward (SLA, windows)."""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.contracts import utcnow


class Clock:
    """Returns the current UTC time plus an offset that only tests change."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        """The current time (aware, UTC)."""
        return utcnow() + self.offset

    def advance(self, delta: timedelta) -> None:
        """Moves the clock forward (tests only)."""
        self.offset += delta
