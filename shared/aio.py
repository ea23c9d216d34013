"""Small asyncio helpers that keep cancellation reliable.

Python 3.11's asyncio.wait_for can swallow a cancellation that arrives just as the awaited
future completes, so a task asked to stop keeps running (seen here: a service's shutdown
waited forever on its outbox relay). asyncio.timeout() has no such race; use these instead.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def wait_for_event(event: asyncio.Event, seconds: float) -> bool:
    """Waits until the event is set or the time is up; returns whether it was set."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
    return event.is_set()


async def within(awaitable: Awaitable[T], seconds: float) -> T:
    """Awaits with a deadline; raises TimeoutError when it passes."""
    async with asyncio.timeout(seconds):
        return await awaitable
