"""The live page's feed over the real Redis stream: many viewers, one computation per update."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from datetime import date
from typing import Any

import pytest
from redis.asyncio import Redis

from services.survey.live import LiveHub
from shared.contracts import IkmUpdatedV1
from tests.support import wait_for

pytestmark = pytest.mark.integration
VIEWERS = 6


async def test_six_viewers_share_one_snapshot_per_update_without_polling(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    computed: list[tuple[str, str | None]] = []

    async def compute(tenant: str, unit: str | None) -> dict[str, Any]:
        computed.append((tenant, unit))  # stands for the database read of a snapshot
        return {"tenant": tenant, "unit": unit, "version": len(computed)}

    hub = LiveHub(redis, compute, block_ms=200)
    reader = asyncio.create_task(hub.run())
    try:
        async with AsyncExitStack() as stack:
            queues = [
                await stack.enter_async_context(hub.watch("mojosari", None)) for _ in range(VIEWERS)
            ]
            firsts = [q.get_nowait() for q in queues]
            assert {s["version"] for s in firsts} == {1} and len(computed) == 1
            await asyncio.sleep(1.0)  # nothing published: nothing is recomputed (no polling)
            assert len(computed) == 1

            event = IkmUpdatedV1(
                tenant="mojosari", source="survey", correlation_id="live-test",
                units=["kantor-kecamatan"], local_dates=[date(2025, 3, 10)], responses=1,
            )  # fmt: skip
            data = event.model_dump_json()

            async def everyone_updated() -> bool:
                if all(q.empty() for q in queues):  # the reader may not be listening yet
                    await redis.xadd(IkmUpdatedV1.STREAM, {"__data__": data})
                    await asyncio.sleep(0.3)
                return all(not q.empty() for q in queues)

            await wait_for(everyone_updated, timeout=30, what="every viewer's update")
            updates = [q.get_nowait() for q in queues]
            assert len({u["version"] for u in updates}) == 1  # the same snapshot for all
            # One computation per update read, however many viewers watch.
            refreshes = len(computed) - 1
            assert 1 <= refreshes <= len(await redis.xrange(IkmUpdatedV1.STREAM))
        assert hub.viewers == {} and hub.latest == {}  # the last viewer gone: nothing kept
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        await redis.aclose()
