"""Small asyncio helpers that keep cancellation reliable.

Python 3.11's asyncio.wait_for can swallow a cancellation that arrives just as the awaited
future completes, so a task asked to stop keeps running (seen here: a service's shutdown
waited forever on its outbox relay). asyncio.timeout() has no such race; use these instead.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Collection
from typing import Any, TypeVar

from shared.logging import get_logger

T = TypeVar("T")
log = get_logger(__name__)


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


def stop_if_cancelled() -> None:
    """Raises CancelledError when this task was asked to stop, even if the cancel was lost.

    A library that swallows a CancelledError leaves the request counted (Task.cancelling()),
    so a loop that checks here at the top of each round ends at its next round instead of
    retrying forever. Call it where a long-running loop starts a round.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def stop_tasks(
    tasks: Collection[asyncio.Task[Any]], seconds: float
) -> set[asyncio.Task[Any]]:
    """Cancels the tasks and waits until they end; returns those still running after `seconds`.

    One cancel() is not always enough: a library can swallow it (Python 3.11's
    asyncio.wait_for, which redis-py uses for socket writes, can drop a cancellation that
    arrives as the awaited write completes), and a loop that retries on errors then runs on forever
    (seen here: an outbox relay went on retrying a dead Redis for minutes after its cancel).
    So a task still running after the first half of the time, which is its grace to clean up,
    is cancelled again every 100 ms, each time at its next await.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    running = {task for task in tasks if not task.done()}
    for task in running:
        task.cancel()
    if running:
        _done, running = await asyncio.wait(running, timeout=seconds / 2)
    if running:
        log.warning("task.cancel_repeated", tasks=sorted(task.get_name() for task in running))
    while running and (remaining := deadline - loop.time()) > 0:
        for task in running:
            task.cancel()
        _done, running = await asyncio.wait(running, timeout=min(0.1, remaining))
    return running
