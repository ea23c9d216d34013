"""Transient failures (a dependency is down) told apart from permanent ones (a bug, bad data).

A transient failure is retried with back-off and never counts toward the dead-letter limit;
a permanent one counts, and after `max_deliveries` the message is dead-lettered.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from redis import exceptions as redis_errors
from sqlalchemy import exc as sa_errors

DATABASE = "database"
REDIS = "redis"

# SQLite reports an unreachable file and a bug alike as OperationalError; these mean the file.
_SQLITE_TRANSIENT = (
    "database is locked",
    "unable to open database",
    "disk i/o error",
    "readonly database",
    "database or disk is full",
)
_REDIS_TRANSIENT = (
    redis_errors.ConnectionError,
    redis_errors.TimeoutError,
    redis_errors.BusyLoadingError,
    redis_errors.TryAgainError,
)


def transient_dependency(exc: BaseException) -> str | None:
    """Names the dependency ('database' or 'redis') a transient failure is about, else None."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 8:
        found = _classify(current)
        if found:
            return found
        current = current.__cause__ or current.__context__
        seen += 1
    return None


def _classify(exc: BaseException) -> str | None:
    if isinstance(exc, _REDIS_TRANSIENT):
        return REDIS
    if isinstance(exc, sa_errors.TimeoutError | sa_errors.DisconnectionError):
        return DATABASE
    if isinstance(exc, sa_errors.DBAPIError):
        if exc.connection_invalidated:
            return DATABASE
        if isinstance(exc, sa_errors.OperationalError | sa_errors.InterfaceError):
            text = str(exc.orig).lower()
            if "sqlite" not in type(exc.orig).__module__:
                return DATABASE
            return DATABASE if any(m in text for m in _SQLITE_TRANSIENT) else None
        return None
    if type(exc).__module__.startswith("asyncpg"):
        name = type(exc).__name__
        if "Connection" in name or name in ("CannotConnectNowError", "AdminShutdownError"):
            return DATABASE
        if name == "InterfaceError" and "closed" in str(exc):
            return DATABASE
    if isinstance(exc, ConnectionError | OSError) and not isinstance(exc, FileNotFoundError):
        # A refused or reset socket below the drivers (e.g. asyncpg's connect).
        return DATABASE
    return None


def backoff_delays(base_s: float, cap_s: float) -> Iterator[float]:
    """Exponential back-off with jitter: a random delay in [c/2, c], c = min(cap, base * 2**n)."""
    attempt = 0
    while True:
        ceiling = min(cap_s, base_s * (2**attempt))
        yield max(0.01, random.uniform(ceiling / 2, ceiling))
        attempt = min(attempt + 1, 30)


class DependencyGate:
    """Closed while a dependency is down: handlers wait at it instead of failing messages."""

    def __init__(self) -> None:
        import asyncio

        self.down: str | None = None
        self._open = asyncio.Event()
        self._open.set()

    def close(self, dependency: str) -> bool:
        """Marks a dependency down; returns True when the gate was open until now."""
        was_open = self.down is None
        self.down = dependency
        self._open.clear()
        return was_open

    def open(self) -> bool:
        """Marks every dependency up again; returns True when the gate was closed until now."""
        was_closed = self.down is not None
        self.down = None
        self._open.set()
        return was_closed

    def release(self) -> None:
        """Lets every waiter go without marking the dependency up (used at shutdown)."""
        self._open.set()

    async def wait_open(self) -> None:
        """Returns once the gate is open (or released)."""
        await self._open.wait()
