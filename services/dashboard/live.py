"""Tells open live pages (server-sent events) that the read model changed."""

from __future__ import annotations

import asyncio
import contextlib


class Changes:
    """A version number that waiters can await; bumped after each read-model commit."""

    def __init__(self) -> None:
        self.version = 0
        self._changed = asyncio.Event()

    def notify(self) -> None:
        """Called after a commit that changed the read model."""
        self.version += 1
        self._changed.set()

    async def wait(self, seen: int, timeout: float) -> int:
        """Returns the current version once it differs from `seen`, or after timeout."""
        if self.version == seen:
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout)
        return self.version
