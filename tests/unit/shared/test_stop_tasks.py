"""A shutdown stops its background tasks even when one of them swallows a cancellation."""

from __future__ import annotations

import asyncio
import contextlib

from shared.aio import stop_if_cancelled, stop_tasks


async def test_a_loop_that_swallowed_its_cancel_is_cancelled_again_until_it_ends() -> None:
    swallowed = 0

    async def retrying_loop() -> None:
        # Like a relay whose library lost the first cancel: it retries on as if nothing happened.
        nonlocal swallowed
        while True:
            try:
                await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                if swallowed:
                    raise
                swallowed += 1

    task = asyncio.create_task(retrying_loop())
    await asyncio.sleep(0)
    assert not await stop_tasks([task], seconds=2)
    assert task.cancelled()
    assert swallowed == 1


async def test_a_task_gets_the_first_half_of_the_time_to_clean_up_undisturbed() -> None:
    cleaned = asyncio.Event()

    async def with_cleanup() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.sleep(0.3)  # a graceful stop, such as a worker pool's
            cleaned.set()

    task = asyncio.create_task(with_cleanup())
    await asyncio.sleep(0)
    assert not await stop_tasks([task], seconds=2)
    assert cleaned.is_set()


async def test_a_task_that_ignores_every_cancel_is_reported_when_the_time_is_up() -> None:
    released = False

    async def stubborn() -> None:
        while not released:
            try:
                await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                continue

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await stop_tasks([task], seconds=0.5) == {task}
    assert 0.45 <= loop.time() - started < 2
    released = True
    await task


async def test_a_loop_that_checks_stops_at_its_next_round_after_a_lost_cancel() -> None:
    rounds_after_cancel = 0
    cancelled = False

    async def retrying_loop() -> None:
        nonlocal rounds_after_cancel
        while True:
            stop_if_cancelled()
            if cancelled:
                rounds_after_cancel += 1
            # A library that loses the cancel, without uncancel():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(0.01)

    task = asyncio.create_task(retrying_loop())
    await asyncio.sleep(0.02)
    task.cancel()
    cancelled = True
    await asyncio.wait([task], timeout=1)
    assert task.cancelled(), "the loop ran on after its cancel was lost"
    assert rounds_after_cancel == 0
