"""The outbox relay: a row Redis refuses is parked and the rest go on; operators re-send it."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import OutOfMemoryError
from sqlalchemy import select

from services.registry import entry
from shared.contracts import ParticipantRegisteredV1, ResponseSubmittedV1
from shared.db import Database
from shared.migrations import upgrade
from shared.outbox import add_event, outbox_table, pending_count
from shared.relay import OutboxRelay
from tests.factories import participant_registered
from tests.integration.test_delivery import event
from tests.processes import ROOT, RedisServer, service_env

pytestmark = pytest.mark.integration


def cli(env: dict[str, str], *args: str) -> Any:
    """Runs `menjamu ...` and returns its JSON output."""
    done = subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout)


async def test_a_row_redis_refuses_is_parked_and_can_be_resent(
    settings_for: Callable[..., Any], redis_client: Redis
) -> None:
    settings = settings_for(entry("survey").settings().__class__)
    await asyncio.to_thread(upgrade, settings, entry("survey").migrations)
    db = Database(settings)
    # The bad row's stream key holds a string: Redis answers WRONGTYPE to its XADD.
    await redis_client.set(ResponseSubmittedV1.STREAM, "not a stream")
    async with db.session() as session:
        await add_event(session, event("bad"))
        for _ in range(3):
            await add_event(session, participant_registered())
    relay = OutboxRelay(db, redis_client, batch=100, interval_ms=50, maxlen=10_000, max_attempts=3)
    for _ in range(5):
        await relay.publish_pending()
    assert await redis_client.xlen(ParticipantRegisteredV1.STREAM) == 3
    assert await pending_count(db) == 0
    async with db.session() as session:
        bad = (
            await session.execute(select(outbox_table).where(outbox_table.c.failed_at.is_not(None)))
        ).one()
    assert bad.attempts == 3 and bad.published_at is None and "WRONGTYPE" in bad.last_error

    env = service_env(
        redis_url=settings.redis_url,
        data_dir=settings.data_dir,
        database_url=settings.database_url,
        schema_prefix=settings.db_schema_prefix,
    )
    listed = cli(env, "outbox", "list", "survey")["survey"]
    assert [row["event_type"] for row in listed] == ["survey.response_submitted"]
    assert "payload" not in listed[0] and "WRONGTYPE" in listed[0]["last_error"]

    await redis_client.delete(ResponseSubmittedV1.STREAM)
    assert cli(env, "outbox", "retry", "survey", "--id", str(listed[0]["id"])) == {
        "survey": {"requeued": 1}
    }
    assert await relay.publish_pending() == 1
    assert await redis_client.xlen(ResponseSubmittedV1.STREAM) == 1
    assert cli(env, "outbox", "list", "survey") == {"survey": []}
    await db.dispose()


async def test_redis_refusing_every_write_parks_nothing(
    settings_for: Callable[..., Any], tmp_path: Path
) -> None:
    """A full or read-only server is an outage, not a bad row: nothing counts."""
    server = RedisServer(tmp_path / "own-redis")  # maxmemory must not touch the shared Redis
    server.start()
    settings = settings_for(entry("survey").settings().__class__, redis_url=server.url)
    await asyncio.to_thread(upgrade, settings, entry("survey").migrations)
    db = Database(settings)
    redis = Redis.from_url(server.url)
    try:
        async with db.session() as session:
            await add_event(session, participant_registered())
        relay = OutboxRelay(db, redis, batch=100, interval_ms=50, maxlen=10_000, max_attempts=1)
        await redis.config_set("maxmemory", 1)
        with pytest.raises(OutOfMemoryError):
            await relay.publish_pending()
        await redis.config_set("maxmemory", 0)
        assert await pending_count(db) == 1
        assert await relay.publish_pending() == 1
        assert await redis.xlen(ParticipantRegisteredV1.STREAM) == 1
    finally:
        await redis.aclose()
        await db.dispose()
        server.stop()
