"""Several messages of one read handled at once (handler_concurrency), on the real Redis:
messages with the same ordering key keep their stream order, different keys overlap, and every
delivery guarantee holds (each effect once, nothing left pending)."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from shared.consumer import Reaction
from shared.contracts import ParticipantRegisteredV1, ResponseSubmittedV1
from shared.handling import IN_TURN, by_registration
from shared.relay import encode_for_stream
from shared.settings import ServiceSettings
from tests.factories import participant_registered
from tests.integration.test_delivery import (
    STREAM,
    DeliverySettings,
    consuming,
    count_effects,
    database,
    event,
    record,
)
from tests.support import wait_for

pytestmark = pytest.mark.integration


class Overlap:
    """Counts the handlers running at once and remembers the order they finished in."""

    def __init__(self) -> None:
        self.running = 0
        self.most = 0
        self.done: list[str] = []

    async def around(self, unit: str, work: Any) -> None:
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            await work
            self.done.append(unit)
        finally:
            self.running -= 1


async def publish_all(redis: Redis, events: list[ResponseSubmittedV1]) -> None:
    """Publishes in one pipeline, so a read takes several of them at once."""
    pipe = redis.pipeline(transaction=True)
    for ev in events:
        fields = await encode_for_stream(ev.type, ev.correlation_id, ev.model_dump_json())
        pipe.xadd(STREAM, fields)  # type: ignore[arg-type]
    await pipe.execute()


def by_key(ev: ResponseSubmittedV1) -> str:
    return ev.unit.split(":")[0]


async def test_messages_with_the_same_key_are_handled_in_stream_order_under_concurrency(
    settings_for: Callable[..., ServiceSettings],
) -> None:
    settings = settings_for(DeliverySettings, handler_concurrency=4, read_batch=10)
    overlap = Overlap()

    async def jittery(session: AsyncSession, ev: ResponseSubmittedV1) -> None:
        async def work() -> None:
            await record(session, ev)
            await asyncio.sleep(random.uniform(0, 0.03))  # the effect's own time, uneven

        await overlap.around(ev.unit, work())

    keys = ("a", "b", "c")
    published = [event(f"{key}:{seq}") for seq in range(15) for key in keys]
    async with database(settings) as db:
        redis = Redis.from_url(settings.redis_url)
        await publish_all(redis, published)
        reaction = Reaction("test.ordered", ResponseSubmittedV1, jittery, order_key=by_key)
        async with consuming(settings, db, reaction):
            await wait_for(lambda: _equals(count_effects(db), 45), timeout=60, what="45 effects")
            await wait_for(lambda: _quiet(redis, "test.ordered"), what="the group quiet")
        for key in keys:
            assert [u for u in overlap.done if u.split(":")[0] == key] == [
                f"{key}:{seq}" for seq in range(15)
            ]
        if db.dialect == "postgresql":  # SQLite has one writer: its transactions take turns
            assert overlap.most > 1, "the keys never overlapped: the order proved nothing"
        await redis.aclose()


@pytest.mark.parametrize("settings_for", ["postgres"], indirect=True)
async def test_different_keys_are_handled_at_once(
    settings_for: Callable[..., ServiceSettings],
) -> None:
    """Eight slow handlers of eight keys, read together, finish in about one handler's time."""
    settings = settings_for(DeliverySettings, handler_concurrency=8, read_batch=10)
    overlap = Overlap()
    slow_s = 0.5

    async def slow(session: AsyncSession, ev: ResponseSubmittedV1) -> None:
        async def work() -> None:
            await asyncio.sleep(slow_s)
            await record(session, ev)

        await overlap.around(ev.unit, work())

    async with database(settings) as db:
        redis = Redis.from_url(settings.redis_url)
        await publish_all(redis, [event(f"k{i}:0") for i in range(8)])
        reaction = Reaction("test.slow", ResponseSubmittedV1, slow, order_key=by_key)
        started = time.monotonic()
        async with consuming(settings, db, reaction):
            await wait_for(lambda: _equals(count_effects(db), 8), timeout=30, what="8 effects")
            took = time.monotonic() - started
            await wait_for(lambda: _quiet(redis, "test.slow"), what="the group quiet")
        assert overlap.most == 8
        # One after another they take 8 x 0.5 s = 4 s; side by side about 0.5 s.
        assert took < 4 * slow_s, f"8 handlers of {slow_s} s took {took:.2f} s"
        await redis.aclose()


@pytest.mark.parametrize("settings_for", ["postgres"], indirect=True)
async def test_one_key_waits_for_itself_but_not_for_the_others(
    settings_for: Callable[..., ServiceSettings],
) -> None:
    """A slow key's messages take turns while the other keys' messages go past them."""
    settings = settings_for(DeliverySettings, handler_concurrency=4, read_batch=10)
    overlap = Overlap()

    async def handle(session: AsyncSession, ev: ResponseSubmittedV1) -> None:
        async def work() -> None:
            await asyncio.sleep(0.3 if ev.unit.startswith("slow") else 0)
            await record(session, ev)

        await overlap.around(ev.unit, work())

    units = ["slow:0", "slow:1", "fast:0", "fast:1", "fast:2", "slow:2"]
    async with database(settings) as db:
        redis = Redis.from_url(settings.redis_url)
        await publish_all(redis, [event(u) for u in units])
        reaction = Reaction("test.mixed", ResponseSubmittedV1, handle, order_key=by_key)
        async with consuming(settings, db, reaction):
            await wait_for(lambda: _equals(count_effects(db), 6), timeout=30, what="6 effects")
        assert [u for u in overlap.done if u.startswith("slow")] == ["slow:0", "slow:1", "slow:2"]
        # The fast key did not wait behind the slow one: it finished before slow:0 did.
        assert overlap.done.index("fast:2") < overlap.done.index("slow:0")
        await redis.aclose()


def test_the_default_key_is_the_registration_or_one_for_the_whole_reaction() -> None:
    registered = participant_registered()
    assert by_registration(registered) == registered.registration_id
    assert by_registration(event("a")) == IN_TURN
    reaction: Reaction[ParticipantRegisteredV1] = Reaction(
        "test.default", ParticipantRegisteredV1, _nothing
    )
    assert reaction.key_of(registered) == registered.registration_id


async def _nothing(_session: AsyncSession, _ev: ParticipantRegisteredV1) -> None:
    return None


async def _equals(awaitable: Any, expected: int) -> bool:
    return bool(await awaitable == expected)


async def _quiet(redis: Redis, group: str) -> bool:
    for info in await redis.xinfo_groups(STREAM):
        if info["name"].decode() == group:
            return bool(info["pending"] == 0 and info.get("lag") == 0)
    return False
