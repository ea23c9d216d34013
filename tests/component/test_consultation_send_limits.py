"""The per-sender send limit is shared by every replica through Redis."""

from __future__ import annotations

import asyncio
import bisect

import pytest
from redis.asyncio import Redis

from services.consultation.ratelimit import SharedLimit, per_minute_window, sender_limit
from tests.support import wait_for

pytestmark = pytest.mark.integration


def test_a_per_minute_limit_becomes_a_smooth_window_never_above_the_minute() -> None:
    assert per_minute_window(60) == (1, 1.0)
    assert per_minute_window(600) == (10, 1.0)
    assert per_minute_window(30) == (1, 2.0)
    limit, window = per_minute_window(100)
    assert limit == 1 and window == pytest.approx(0.6)


async def test_two_replicas_together_never_exceed_the_limit(redis_url: str) -> None:
    first, second = Redis.from_url(redis_url), Redis.from_url(redis_url)
    try:
        a = SharedLimit(first, "menjamu:wa:rate:test", limit=5, window_s=60)
        b = SharedLimit(second, "menjamu:wa:rate:test", limit=5, window_s=60)
        grants = await asyncio.gather(*(limiter.take(2) for limiter in (a, b, a, b, a)))
        assert sum(g.granted for g in grants) == 5
        refused = await b.take(1)
        assert refused.granted == 0 and 0 < refused.wait_s <= 60
    finally:
        await first.aclose()
        await second.aclose()


async def test_permits_come_back_after_the_window(redis_client: Redis) -> None:
    limiter = SharedLimit(redis_client, "menjamu:wa:rate:short", limit=2, window_s=0.3)
    assert (await limiter.take(3)).granted == 2
    waited = await limiter.take(1)
    assert waited.granted == 0

    async def granted_again() -> bool:
        return (await limiter.take(1)).granted == 1

    await wait_for(granted_again, timeout=5, every=0.05, what="a permit after the window")


async def test_each_sender_number_has_its_own_limit(redis_client: Redis) -> None:
    one = sender_limit(redis_client, "cloud:111", 60)
    two = sender_limit(redis_client, "cloud:222", 60)
    assert (await one.take(1)).granted == 1
    assert (await one.take(1)).granted == 0
    assert (await two.take(1)).granted == 1


async def test_unused_permits_are_given_back(redis_client: Redis) -> None:
    limiter = SharedLimit(redis_client, "menjamu:wa:rate:giveback", limit=5, window_s=60)
    grant = await limiter.take(5)
    await limiter.give_back(grant, used=2)  # only two messages were waiting
    assert (await limiter.take(5)).granted == 3


async def test_permits_by_redis_time_never_exceed_the_limit_in_any_window(redis_url: str) -> None:
    """Two replicas hammer a 20-per-0.5 s limit for 1.5 s; counted on Redis's clock (the
    limiter's own), no half-second window [t, t + 0.5) holds more than 20 permits."""
    clients = [Redis.from_url(redis_url), Redis.from_url(redis_url)]
    granted: list[float] = []

    async def replica(client: Redis) -> None:
        limiter = SharedLimit(client, "menjamu:wa:rate:edge", limit=20, window_s=0.5)
        loop = asyncio.get_running_loop()
        until = loop.time() + 1.5
        while loop.time() < until:
            grant = await limiter.take(1)
            granted.extend([grant.at] * grant.granted)
            if not grant.granted:
                await asyncio.sleep(min(grant.wait_s, 0.01))

    try:
        await asyncio.gather(*(replica(c) for c in clients))
    finally:
        for client in clients:
            await client.aclose()
    ordered = sorted(granted)
    busiest = max(bisect.bisect_left(ordered, t + 0.5) - i for i, t in enumerate(ordered))
    assert len(ordered) >= 40  # the window turned over at least twice
    assert busiest == 20


async def test_a_full_window_tells_how_long_until_the_next_permit(redis_client: Redis) -> None:
    """take(0) takes nothing; when the window is full it says when a permit frees up, so a
    sender sleeps that long, not a whole polling interval."""
    limiter = SharedLimit(redis_client, "menjamu:wa:rate:peek", limit=2, window_s=0.4)
    free = await limiter.take(0)
    assert (free.granted, free.left, free.wait_s) == (0, 2, 0.0)
    assert (await limiter.take(2)).granted == 2
    full = await limiter.take(0)
    assert full.granted == 0 and full.left == 0
    assert 0 < full.wait_s <= 0.4
