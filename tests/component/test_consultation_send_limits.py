"""The per-sender send limit is shared by every replica through Redis."""

from __future__ import annotations

import asyncio

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
