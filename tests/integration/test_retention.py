"""Retention: each rule removes what is old and keeps what is not (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import func, insert, select, update

from shared.contracts import ResponseSubmittedV1, utcnow
from shared.db import Database
from shared.handling import Reaction
from shared.outbox import add_event, outbox_table, processed_events_table
from shared.retention import Retention
from shared.settings import ServiceSettings
from tests.integration.test_delivery import DeliverySettings, database, event, record

pytestmark = pytest.mark.integration
STREAM = ResponseSubmittedV1.STREAM
DAY_MS = 86_400_000


@pytest.fixture
def settings(settings_for: Callable[..., ServiceSettings]) -> ServiceSettings:
    return settings_for(
        DeliverySettings,
        retention_outbox_days=7,
        retention_processed_days=30,
        retention_stream_days=14,
        retention_consumer_idle_days=1,
    )


def retention(settings: ServiceSettings, db: Database, redis: Redis) -> Retention:
    return Retention(settings, db, redis, [Reaction("test.record", ResponseSubmittedV1, record)])


async def count(db: Database, table: Any) -> int:
    async with db.session() as session:
        return int((await session.execute(select(func.count()).select_from(table))).scalar_one())


async def test_published_outbox_rows_go_after_their_retention_unpublished_and_parked_stay(
    settings: ServiceSettings, redis_client: Redis
) -> None:
    now = utcnow()
    async with database(settings) as db:
        async with db.session() as session:
            for _ in range(4):
                await add_event(session, event())
        ages = {1: now - timedelta(days=8), 2: now - timedelta(days=6)}
        async with db.session() as session:
            for row_id, published in ages.items():
                await session.execute(
                    update(outbox_table)
                    .where(outbox_table.c.id == row_id)
                    .values(published_at=published)
                )
            await session.execute(  # parked long ago: kept for the operator
                update(outbox_table)
                .where(outbox_table.c.id == 3)
                .values(failed_at=now - timedelta(days=60), last_error="x")
            )
        removed = await retention(settings, db, redis_client).apply(now)
        assert removed["outbox_rows"] == 1
        async with db.session() as session:
            left = {r[0] for r in await session.execute(select(outbox_table.c.id))}
        assert left == {2, 3, 4}


async def test_processed_marks_go_after_their_retention(
    settings: ServiceSettings, redis_client: Redis
) -> None:
    now = utcnow()
    async with database(settings) as db:
        async with db.session() as session:
            for i, days in enumerate((31, 40, 29, 1)):
                await session.execute(
                    insert(processed_events_table).values(
                        consumer_group="g",
                        event_id=f"e{i}",
                        processed_at=now - timedelta(days=days),
                    )
                )
        removed = await retention(settings, db, redis_client).apply(now)
        assert removed["processed_marks"] == 2
        assert await count(db, processed_events_table) == 2


async def test_stream_and_dead_letter_entries_older_than_the_retention_are_trimmed(
    settings: ServiceSettings, redis_client: Redis
) -> None:
    now = utcnow()
    now_ms = int(now.timestamp() * 1000)
    for stream in (STREAM, STREAM + ".dlq"):
        for days in (20, 15, 13, 0):
            await redis_client.xadd(stream, {"k": "v"}, id=f"{now_ms - days * DAY_MS - 1000}-0")
    async with database(settings) as db:
        removed = await retention(settings, db, redis_client).apply(now)
    assert removed["stream_entries"] == 4
    assert await redis_client.xlen(STREAM) == 2
    assert await redis_client.xlen(STREAM + ".dlq") == 2


async def test_idle_consumers_without_pending_entries_are_removed(
    settings: ServiceSettings, redis_client: Redis
) -> None:
    await redis_client.xgroup_create(STREAM, "test.record", id="0", mkstream=True)
    await redis_client.xadd(STREAM, {"k": "v"})
    await redis_client.xreadgroup("test.record", "holds-one", {STREAM: ">"}, count=1)
    await redis_client.xgroup_createconsumer(STREAM, "test.record", "gone-replica")
    settings_now = settings.model_copy(update={"retention_consumer_idle_days": 0})
    async with database(settings) as db:
        kept = await retention(settings, db, redis_client).apply()
        assert kept["idle_consumers"] == 0  # neither idle for a day yet
        removed = await retention(settings_now, db, redis_client).apply()
    assert removed["idle_consumers"] == 1
    names = [c["name"].decode() for c in await redis_client.xinfo_consumers(STREAM, "test.record")]
    assert names == ["holds-one"]
