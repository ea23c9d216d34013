"""Published means durable: kill -9 Redis right after a burst; no row marked published is lost."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from faststream.redis.parser import BinaryMessageFormatV1
from redis.asyncio import Redis
from sqlalchemy import select

from services.embedded_redis import embedded_binary
from shared.contracts import ResponseSubmittedV1
from shared.db import Database
from shared.outbox import add_event, outbox_table
from shared.relay import OutboxRelay
from tests.integration.test_delivery import DeliverySettings, database, event
from tests.processes import RedisServer
from tests.support import wait_for

pytestmark = [pytest.mark.fault, pytest.mark.integration]
BURST = 3000


async def published_ids(db: Database) -> set[str]:
    """Event ids of the rows the outbox calls published."""
    async with db.session() as session:
        rows = await session.execute(
            select(outbox_table.c.event_id).where(outbox_table.c.published_at.is_not(None))
        )
        return {row[0] for row in rows}


async def ids_on_stream(redis: Redis) -> set[str]:
    """Event ids of the entries on the stream."""
    found = set()
    for _id, fields in await redis.xrange(ResponseSubmittedV1.STREAM):
        body, _headers = BinaryMessageFormatV1.parse(fields[b"__data__"])
        found.add(json.loads(body)["event_id"])
    return found


async def test_kill9_after_a_burst_loses_no_event_marked_published(
    settings_for: Callable[..., Any], tmp_path: Path
) -> None:
    # everysec is the harder case: only WAITAOF stands between a mark and a lost second.
    server = RedisServer(tmp_path / "valkey", binary=embedded_binary(), fsync="everysec")
    server.start()
    try:
        settings = settings_for(DeliverySettings, redis_url=server.url)
        redis = Redis.from_url(server.url)
        async with database(settings) as db:
            relay = OutboxRelay(
                db, redis, batch=200, interval_ms=10, maxlen=1_000_000, durability="auto"
            )
            assert await relay.resolve_durability() == "waitaof"
            relaying = asyncio.create_task(relay.run())
            for _batch in range(0, BURST, 50):
                async with db.session() as session:
                    for _ in range(50):
                        await add_event(session, event())

            async def some_published() -> bool:
                return relay.published_total >= 500

            await wait_for(some_published, timeout=60, what="a burst on its way")
            server.kill9()
            relaying.cancel()
            await asyncio.gather(relaying, return_exceptions=True)
            marked = await published_ids(db)
            server.start()
            fresh = Redis.from_url(server.url)
            on_stream = await ids_on_stream(fresh)
            await fresh.aclose()
            assert marked, "nothing was marked published before the kill"
            assert marked - on_stream == set(), f"{len(marked - on_stream)} marked events lost"
        await redis.aclose(close_connection_pool=True)
    finally:
        server.stop()  # even when the test fails: never leave a server behind
