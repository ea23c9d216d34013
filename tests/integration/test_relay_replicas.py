"""MENJAMU_REDIS_MIN_REPLICAS: a row counts as published only once a replica holds its event."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import func, select

from shared.contracts import ParticipantRegisteredV1
from shared.db import Database
from shared.outbox import INFRA_METADATA, add_event, outbox_table
from shared.relay import OutboxRelay
from shared.settings import ServiceSettings
from tests.factories import participant_registered
from tests.support import make_settings

pytestmark = pytest.mark.integration


async def unpublished(db: Database) -> int:
    async with db.session() as session:
        query = select(func.count()).where(outbox_table.c.published_at.is_(None))
        return int((await session.execute(query)).scalar_one())


async def test_without_a_replica_the_relay_keeps_the_rows_and_says_why(
    tmp_path: Path, redis_url: str
) -> None:
    # The WAIT lasts up to 5 s: the client must wait longer (the services' clients allow 10 s).
    redis_client = Redis.from_url(redis_url, socket_timeout=10)
    settings = make_settings(
        ServiceSettings, data_dir=tmp_path, redis_url=redis_url, database_url=None
    )
    db = Database(settings)
    async with db.engine.begin() as conn:
        await conn.run_sync(INFRA_METADATA.create_all)
    async with db.session() as session:
        for _ in range(3):
            await add_event(session, participant_registered())
    waiting = OutboxRelay(db, redis_client, batch=10, interval_ms=50, maxlen=1000, min_replicas=1)
    try:
        with pytest.raises(RedisError, match="0 of 1 replicas acknowledged"):
            await waiting.publish_pending()
        assert await unpublished(db) == 3  # the XADDs happened; the mark did not
        assert await redis_client.xlen(ParticipantRegisteredV1.STREAM) == 3
        plain = OutboxRelay(db, redis_client, batch=10, interval_ms=50, maxlen=1000)
        assert await plain.publish_pending() == 3  # republished: consumers drop copies by id
        assert await unpublished(db) == 0
    finally:
        await db.dispose()
        await redis_client.aclose()
