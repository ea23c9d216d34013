"""Dependency outages: retried without dead letters, and /ready answers in time naming the cause."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import event as sa_event

from shared.contracts import ResponseSubmittedV1
from shared.db import Database
from shared.handling import Reaction
from shared.runtime import Runtime
from shared.settings import ServiceSettings
from shared.streams import dlq_stream
from tests.factories import publish
from tests.integration.test_delivery import (
    DeliverySettings,
    count_effects,
    database,
    event,
    record,
)
from tests.processes import RedisServer
from tests.proxy import CuttableProxy
from tests.support import make_settings, wait_for

pytestmark = pytest.mark.integration
STREAM = ResponseSubmittedV1.STREAM
GROUP = "test.record"


@asynccontextmanager
async def running(settings: ServiceSettings) -> AsyncIterator[Runtime]:
    """A service runtime (relay, consumers, readiness) with one recording reaction."""
    runtime = Runtime(settings, [Reaction(GROUP, ResponseSubmittedV1, record)])
    await runtime.start()
    try:

        async def started() -> bool:
            return runtime.messaging_started

        await wait_for(started, what="consumers started")
        yield runtime
    finally:
        await runtime.stop()


async def quiet(redis: Redis) -> bool:
    """True when the group has read everything and holds nothing pending."""
    for info in await redis.xinfo_groups(STREAM):
        if info["name"].decode() == GROUP:
            return bool(info["pending"] == 0 and info.get("lag") == 0)
    return False


async def test_a_database_outage_longer_than_the_dead_letter_limit_loses_and_repeats_nothing(
    tmp_path: Path, redis_url: str, schema_prefix: str, pg_url: str
) -> None:
    proxy = CuttableProxy("127.0.0.1", 5432)
    await proxy.start()
    through_proxy = f"postgresql://127.0.0.1:{proxy.port}/test"
    common = {"data_dir": tmp_path, "redis_url": redis_url, "schema_prefix": schema_prefix}
    settings = make_settings(
        DeliverySettings,
        database_url=through_proxy,
        retry_base_ms=50,
        retry_max_ms=400,
        **common,
    )
    direct = make_settings(DeliverySettings, database_url=pg_url, **common)
    redis = Redis.from_url(redis_url)
    async with database(direct) as db, running(settings) as runtime:
        for _ in range(5):
            await publish(redis, event())
        await wait_for(lambda: _effects_are(db, 5), what="5 effects before the outage")

        await proxy.cut()
        for _ in range(20):
            await publish(redis, event())

        async def paused() -> bool:
            report = await runtime.readiness()
            return report["checks"].get("consumers") == "paused: database unavailable"

        await wait_for(paused, timeout=30, what="/ready to name the database")
        report = await runtime.readiness()
        assert not report["ready"] and "database" in report["failing"]
        # Longer than max_deliveries x claim_idle_ms: every message would be dead-lettered
        # if transient failures counted.
        outage = settings.max_deliveries * settings.claim_idle_ms / 1000 * 2
        loop = asyncio.get_running_loop()
        until = loop.time() + outage
        await wait_for(lambda: _past(loop, until), timeout=outage + 10, what="the outage")
        assert await count_effects(db) == 5

        await proxy.start()
        await wait_for(lambda: _effects_are(db, 25), timeout=60, what="25 effects after it")
        await wait_for(lambda: quiet(redis), timeout=30, what="the group quiet")
        assert await count_effects(db) == 25
        assert await redis.xlen(dlq_stream(STREAM)) == 0
        assert (await runtime.readiness())["ready"]
    await proxy.cut()
    await redis.aclose()


async def test_ready_answers_within_its_deadline_when_redis_is_frozen(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis")
    server.start()
    settings = make_settings(
        DeliverySettings,
        data_dir=tmp_path,
        redis_url=server.url,
        database_url=None,
        consumer_name=f"ready-{uuid.uuid4().hex[:6]}",
    )
    try:
        async with database(settings), running(settings) as runtime:
            assert (await runtime.readiness())["ready"]
            assert server.proc is not None
            os.kill(server.proc.pid, signal.SIGSTOP)
            try:
                loop = asyncio.get_running_loop()
                started = loop.time()
                report = await runtime.readiness()
                took = loop.time() - started
            finally:
                os.kill(server.proc.pid, signal.SIGCONT)
            assert took < 5, f"/ready took {took:.1f} s"
            assert not report["ready"]
            assert report["failing"] == ["redis"]
            assert report["checks"]["redis"] == "error: no answer within 2 s"
            assert report["checks"]["database"] == "ok"

            async def ready_again() -> bool:
                return bool((await runtime.readiness())["ready"])

            await wait_for(ready_again, timeout=30, what="ready after SIGCONT")
    finally:
        server.stop()


async def _effects_are(db: object, expected: int) -> bool:
    return await count_effects(db) == expected  # type: ignore[arg-type]


async def _past(loop: asyncio.AbstractEventLoop, until: float) -> bool:
    return loop.time() >= until


async def test_after_the_database_drops_every_connection_the_next_query_works(
    tmp_path: Path, redis_url: str, pg_url: str
) -> None:
    """No pre-ping round trip, yet a restart of PostgreSQL costs no failed request."""
    proxy = CuttableProxy("127.0.0.1", 5432)
    await proxy.start()
    settings = make_settings(
        DeliverySettings,
        data_dir=tmp_path,
        redis_url=redis_url,
        database_url=f"postgresql://127.0.0.1:{proxy.port}/test",
    )
    db = Database(settings)
    pooled: list[Any] = []
    sa_event.listen(
        db.engine.sync_engine.pool,
        "checkin",
        lambda conn, _rec: pooled.append(conn.driver_connection) if conn is not None else None,
    )
    try:
        await asyncio.gather(db.ping(), db.ping(), db.ping())  # a few pooled connections
        await proxy.cut()  # the server closes them all, as a restart does
        await proxy.start()

        async def closed_seen() -> bool:
            return bool(pooled) and all(conn.is_closed() for conn in pooled)

        await wait_for(closed_seen, what="the client to notice the closed sockets")
        for _ in range(3):
            await db.ping()
    finally:
        await db.dispose()
        await proxy.cut()
