"""Delivery guarantees of the shared consumer helper on the real Redis and PostgreSQL."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from faststream.redis import RedisBroker
from redis.asyncio import Redis
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.consumer import Consumers, Reaction
from shared.contracts import ResponseSubmittedV1
from shared.db import Database
from shared.idempotency import claim_event_ids
from shared.outbox import INFRA_METADATA, add_event, processed_events_table
from shared.relay import OutboxRelay
from shared.settings import ServiceSettings
from shared.streams import dlq_stream, ensure_group, list_dead_letters, replay_dead_letters
from tests.factories import publish
from tests.support import wait_for

pytestmark = pytest.mark.integration
STREAM = ResponseSubmittedV1.STREAM
effects_metadata = MetaData()
effects = Table(
    "effects", effects_metadata, Column("id", Integer, primary_key=True), Column("unit", String(64))
)


class DeliverySettings(ServiceSettings):
    service_name = "delivery"


def event(unit: str = "a") -> ResponseSubmittedV1:
    return ResponseSubmittedV1(
        tenant="mojosari",
        source="test",
        correlation_id="corr",
        response_id=uuid.uuid4(),
        unit=unit,
        submitted_at="2026-12-01T01:00:00Z",
        local_date=date(2026, 12, 1),
        scores={"U1": 4},
    )


@pytest.fixture
def settings(settings_for: Callable[..., ServiceSettings]) -> ServiceSettings:
    return settings_for(DeliverySettings)


@asynccontextmanager
async def database(settings: ServiceSettings) -> AsyncIterator[Database]:
    db = Database(settings)
    async with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            await conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{settings.schema_name}"')
        await conn.run_sync(INFRA_METADATA.create_all)
        await conn.run_sync(effects_metadata.create_all)
    yield db
    await db.dispose()


@asynccontextmanager
async def consuming(
    settings: ServiceSettings, db: Database, reaction: Reaction[Any]
) -> AsyncIterator[Consumers]:
    redis = Redis.from_url(settings.redis_url)
    broker = RedisBroker(settings.redis_url)
    consumers = Consumers(broker, redis, db, settings, [reaction])
    await consumers.start()
    try:
        yield consumers
    finally:
        await consumers.stop()
        await redis.aclose()


async def record(session: AsyncSession, ev: ResponseSubmittedV1) -> None:
    await session.execute(insert(effects).values(unit=ev.unit))


async def count_effects(db: Database) -> int:
    async with db.session() as session:
        return int((await session.execute(select(func.count()).select_from(effects))).scalar_one())


async def test_events_published_before_the_consumer_first_ran_are_handled(
    settings: ServiceSettings,
) -> None:
    async with database(settings) as db:
        relay = OutboxRelay(
            db, Redis.from_url(settings.redis_url), batch=100, interval_ms=50, maxlen=10_000
        )
        async with db.session() as session:
            for unit in ("a", "b", "c"):
                await add_event(session, event(unit))
        assert await relay.publish_pending() == 3
        async with consuming(settings, db, Reaction("test.record", ResponseSubmittedV1, record)):
            await wait_for(lambda: _equals(count_effects(db), 3), what="3 effects")
        await relay.redis.aclose()


async def test_redelivered_event_repeats_no_effect(settings: ServiceSettings) -> None:
    async with database(settings) as db:
        redis = Redis.from_url(settings.redis_url)
        ev = event()
        await publish(redis, ev, times=3)
        async with consuming(settings, db, Reaction("test.record", ResponseSubmittedV1, record)):
            await wait_for(
                lambda: _pending_is(redis, "test.record", 0, entries_read=3),
                what="all three copies acked",
            )
        assert await count_effects(db) == 1
        await redis.aclose()


async def test_a_handler_that_fails_once_is_retried_and_applied_once(
    settings: ServiceSettings,
) -> None:
    attempts: list[str] = []

    async def flaky(session: AsyncSession, ev: ResponseSubmittedV1) -> None:
        attempts.append(ev.unit)
        if len(attempts) == 1:
            raise RuntimeError("database hiccup")
        await record(session, ev)

    async with database(settings) as db:
        redis = Redis.from_url(settings.redis_url)
        await publish(redis, event())
        async with consuming(settings, db, Reaction("test.flaky", ResponseSubmittedV1, flaky)):
            await wait_for(lambda: _equals(count_effects(db), 1), what="the retried effect")
            await wait_for(lambda: _pending_is(redis, "test.flaky", 0), what="ack")
        assert len(attempts) == 2
        assert await redis.xlen(dlq_stream(STREAM)) == 0
        await redis.aclose()


async def test_a_message_that_always_fails_ends_in_the_dead_letter_stream_and_can_be_replayed(
    settings: ServiceSettings,
) -> None:
    broken = {"on": True}

    async def fragile(session: AsyncSession, ev: ResponseSubmittedV1) -> None:
        if broken["on"] and ev.unit == "bad":
            raise RuntimeError("template missing")
        await record(session, ev)

    async with database(settings) as db:
        redis = Redis.from_url(settings.redis_url)
        await publish(redis, event("bad"))
        await publish(redis, event("good"))
        reaction = Reaction("test.fragile", ResponseSubmittedV1, fragile)
        async with consuming(settings, db, reaction):
            await wait_for(lambda: redis.xlen(dlq_stream(STREAM)), timeout=30, what="a dead letter")
            letters = await list_dead_letters(redis, STREAM)
            assert letters[0]["dlq_group"] == "test.fragile"
            assert int(letters[0]["dlq_deliveries"]) == settings.max_deliveries + 1
            assert await count_effects(db) == 1  # the good one was not held back
            await wait_for(lambda: _pending_is(redis, "test.fragile", 0), what="nothing pending")
            broken["on"] = False
            assert await replay_dead_letters(redis, STREAM) == 1
            await wait_for(lambda: _equals(count_effects(db), 2), what="the replayed effect")
        assert await redis.xlen(dlq_stream(STREAM)) == 0
        await redis.aclose()


async def test_a_batchs_marks_claim_only_unseen_events_and_roll_back_with_the_effect(
    settings: ServiceSettings,
) -> None:
    """The marks of a read (one statement over a list of ids) claim each event once: a repeat
    inside the read or from an earlier read is not claimed again, and a failed effect rolls its
    marks back so the redelivery claims them."""
    one, two, three, four = (event(unit) for unit in "abcd")
    started = datetime.now(UTC)
    async with database(settings) as db:
        async with db.session() as session:
            claimed = await claim_event_ids(session, db.dialect, "g", [one])
            assert claimed == {str(one.event_id)}
            claimed = await claim_event_ids(session, db.dialect, "g", [one, two, three, two])
            assert claimed == {str(two.event_id), str(three.event_id)}
            elsewhere = await claim_event_ids(session, db.dialect, "other", [one, two])
            assert elsewhere == {str(one.event_id), str(two.event_id)}, "per consumer group"
        with pytest.raises(RuntimeError):
            async with db.session() as session:
                assert len(await claim_event_ids(session, db.dialect, "g", [three, four])) == 1
                raise RuntimeError("the effect failed")
        async with db.session() as session:
            claimed = await claim_event_ids(session, db.dialect, "g", [four, three])
            assert claimed == {str(four.event_id)}
            marks = processed_events_table.c
            times = (await session.execute(select(marks.processed_at))).scalars().all()
        assert len(times) == 6
        # Read back as the retention's cut-off compares them (SQLite stores text).
        assert all(started - timedelta(seconds=5) <= t.replace(tzinfo=UTC) for t in times)


async def test_unparseable_message_is_dead_lettered_at_once(settings: ServiceSettings) -> None:
    async with database(settings) as db:
        redis = Redis.from_url(settings.redis_url)
        await redis.xadd(STREAM, {"__data__": b'{"not": "an event"}'})
        async with consuming(settings, db, Reaction("test.record", ResponseSubmittedV1, record)):
            await wait_for(lambda: redis.xlen(dlq_stream(STREAM)), what="a dead letter")
        letters = await list_dead_letters(redis, STREAM)
        assert "not a valid ResponseSubmittedV1" in letters[0]["dlq_reason"]
        await redis.aclose()


async def test_batch_reaction_isolates_a_poison_message(settings: ServiceSettings) -> None:
    async def strict(session: AsyncSession, ev: ResponseSubmittedV1) -> None:
        if ev.unit == "bad":
            raise RuntimeError("cannot aggregate")
        await record(session, ev)

    async with database(settings) as db:
        redis = Redis.from_url(settings.redis_url)
        for unit in ("a", "bad", "b", "c"):
            await publish(redis, event(unit))
        reaction = Reaction("test.batch", ResponseSubmittedV1, strict, batch=True)
        async with consuming(settings, db, reaction):
            await wait_for(
                lambda: _equals(count_effects(db), 3), timeout=30, what="the three good effects"
            )
            await wait_for(
                lambda: redis.xlen(dlq_stream(STREAM)),
                timeout=30,
                what="the poison message dead-lettered",
            )
        await redis.aclose()


async def test_a_start_survives_a_read_that_holds_the_event_loop(
    settings: ServiceSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """faststream starts the subscribers one by one and gives each 3 s to answer a PING, while
    the ones started before it already read. A read handled meanwhile that holds the event loop
    (on a busy machine: a failure's traceback, a big batch; here 3.5 s of blocking work) must
    not fail the start. The PING is slowed to 1 s, as a busy machine slows it."""
    ping = Redis.ping

    async def slow_ping(self: Redis, **kwargs: Any) -> Any:
        await asyncio.sleep(1.0)
        return await ping(self, **kwargs)

    monkeypatch.setattr(Redis, "ping", slow_ping)
    blocked: list[str] = []

    async def hold_the_loop(session: AsyncSession, ev: ResponseSubmittedV1) -> None:
        if not blocked:
            blocked.append(ev.unit)
            await asyncio.sleep(0.3)  # a subscriber starting next is now waiting for its PING
            time.sleep(3.5)  # on purpose: no other task runs meanwhile
        await record(session, ev)

    async with database(settings) as db:
        redis = Redis.from_url(settings.redis_url)
        # faststream starts the reader and the claimer in no fixed order: each finds one.
        await publish(redis, event("abandoned"))
        await ensure_group(redis, STREAM, "test.hold")
        await redis.xreadgroup("test.hold", "a-replica-gone", {STREAM: ">"}, count=1)
        await publish(redis, event("new"))
        await asyncio.sleep(settings.claim_idle_ms / 1000)
        reaction = Reaction("test.hold", ResponseSubmittedV1, hold_the_loop)
        async with consuming(settings, db, reaction):
            await wait_for(lambda: _equals(count_effects(db), 2), what="both effects")
        assert blocked
        await redis.aclose()


async def test_a_gathering_batch_reader_handles_a_trickle_in_a_few_batches(
    settings: ServiceSettings,
) -> None:
    """gather_ms: after a small read the reader waits before reading again, so events that
    arrive one by one are handled together (the survey aggregator), none lost or left pending."""
    sizes: list[int] = []

    async def many(session: AsyncSession, events: list[ResponseSubmittedV1]) -> None:
        sizes.append(len(events))
        for ev in events:
            await record(session, ev)

    async with database(settings) as db:
        redis = Redis.from_url(settings.redis_url)
        reaction = Reaction(
            "test.gather", ResponseSubmittedV1, record, batch=True, handle_many=many,
            gather_ms=1500,
        )  # fmt: skip
        async with consuming(settings, db, reaction):
            for unit in "abcdefghij":
                await publish(redis, event(unit))
                await asyncio.sleep(0.05)  # one by one: a reader without gathering reads each
            await wait_for(lambda: _equals(count_effects(db), 10), what="the ten effects")
            await wait_for(lambda: _pending_is(redis, "test.gather", 0), what="all acked")
        assert sum(sizes) == 10
        assert len(sizes) <= 3, sizes
        await redis.aclose()


async def _equals(awaitable: Any, expected: int) -> bool:
    return bool(await awaitable == expected)


async def _pending_is(
    redis: Redis, group: str, pending: int, entries_read: int | None = None
) -> bool:
    for info in await redis.xinfo_groups(STREAM):
        if info["name"].decode() == group:
            if entries_read is not None and info.get("entries-read") != entries_read:
                return False
            return bool(info["pending"] == pending)
    return False


async def test_consumers_recover_when_redis_loses_their_groups(settings: ServiceSettings) -> None:
    """A Redis restart without persistence drops the groups; the consumer must not idle."""
    async with database(settings) as db:
        redis = Redis.from_url(settings.redis_url)
        async with consuming(
            settings, db, Reaction("test.record", ResponseSubmittedV1, record)
        ) as consumers:
            supervisor = asyncio.create_task(consumers.supervise(0.3))
            await publish(redis, event("before"))
            await wait_for(lambda: _equals(count_effects(db), 1), what="first effect")
            await redis.flushdb()
            await wait_for(lambda: _not(consumers.groups_ok()), what="groups lost")
            await wait_for(consumers.groups_ok, what="groups recreated and readers restarted")
            await publish(redis, event("after"))
            await wait_for(lambda: _equals(count_effects(db), 2), what="effect after recovery")
            supervisor.cancel()
        await redis.aclose()


async def _not(awaitable: Any) -> bool:
    return not await awaitable


async def test_a_restarted_replica_handles_its_own_pending_entries_at_once(
    settings_for: Callable[..., ServiceSettings],
) -> None:
    """Read-but-unacked messages of a stopped replica wait for no claim_idle_ms on its restart."""
    settings = settings_for(
        DeliverySettings, claim_idle_ms=600_000, read_batch=10, consumer_name="replica-a"
    )

    async def slow(session: AsyncSession, ev: ResponseSubmittedV1) -> None:
        await asyncio.sleep(0.05)  # the handler's own work, so the stop finds a batch in hand
        await record(session, ev)

    async with database(settings) as db:
        redis = Redis.from_url(settings.redis_url)
        for _ in range(60):
            await publish(redis, event())
        reaction = Reaction("test.slow", ResponseSubmittedV1, slow)
        async with consuming(settings, db, reaction):
            await wait_for(lambda: _at_least(count_effects(db), 5), what="some effects")
        assert not await _pending_is(redis, "test.slow", 0), "the stop came too late to prove it"
        assert await count_effects(db) < 60
        async with consuming(settings, db, reaction):
            await wait_for(lambda: _equals(count_effects(db), 60), timeout=60, what="all 60")
            await wait_for(lambda: _quiet(redis, "test.slow"), what="the group quiet")
        assert await count_effects(db) == 60
        assert await redis.xlen(dlq_stream(STREAM)) == 0
        await redis.aclose()


async def _at_least(awaitable: Any, expected: int) -> bool:
    return bool(await awaitable >= expected)


async def _quiet(redis: Redis, group: str) -> bool:
    for info in await redis.xinfo_groups(STREAM):
        if info["name"].decode() == group:
            return bool(info["pending"] == 0 and info.get("lag") == 0)
    return False


async def test_an_entry_read_but_never_handed_to_a_live_replica_is_still_handled(
    settings_for: Callable[..., ServiceSettings],
) -> None:
    """A read whose reply a dropped connection lost (or an ack Redis never got) leaves an entry
    pending on a live replica's own consumer name, with no handler holding it. The replica's
    keep-alive must not hold it forever: the claimer takes it and the group drains."""
    settings = settings_for(
        DeliverySettings, claim_idle_ms=1_500, poll_ms=100, consumer_name="replica-a"
    )
    async with database(settings) as db:
        redis = Redis.from_url(settings.redis_url)
        reaction = Reaction("test.record", ResponseSubmittedV1, record)
        async with consuming(settings, db, reaction) as consumers:
            await publish(redis, event("first"))
            await wait_for(lambda: _equals(count_effects(db), 1), what="the first effect")
            # The lost read: the entry is delivered to this replica's reader name, never handled.
            await consumers.broker.stop()
            await publish(redis, event("orphan"))
            await redis.xreadgroup("test.record", consumers.reader_name, {STREAM: ">"}, count=1)
            assert await _pending_is(redis, "test.record", 1)
            await consumers.broker.start()
            await wait_for(
                lambda: _equals(count_effects(db), 2), timeout=60, what="the orphan handled"
            )
            await wait_for(lambda: _quiet(redis, "test.record"), timeout=60, what="group quiet")
        assert await redis.xlen(dlq_stream(STREAM)) == 0
        await redis.aclose()
