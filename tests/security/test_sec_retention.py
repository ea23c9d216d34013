"""Finding 13: streams drop personal data by age, never an entry a consumer group still needs."""

from __future__ import annotations

import time

import pytest
from redis.asyncio import Redis

from shared.stream_retention import trim_by_age

pytestmark = pytest.mark.integration
DAY_MS = 86_400_000


async def test_old_handled_entries_are_trimmed_and_pending_or_unread_ones_kept(
    redis_client: Redis,
) -> None:
    now = int(time.time() * 1000)
    stream = "sec.retention.v1"
    ids = [f"{now - (40 - i) * DAY_MS}-0" for i in range(6)]  # 40..35 days old
    for entry_id in ids:
        await redis_client.xadd(stream, {"phone": "+6281234567890"}, id=entry_id)
    await redis_client.xadd(stream, {"phone": "+6281234567890"})  # today
    await redis_client.xgroup_create(stream, "fast", id="0")
    await redis_client.xgroup_create(stream, "slow", id="0")
    read = await redis_client.xreadgroup("fast", "c", {stream: ">"})
    await redis_client.xack(stream, "fast", *[i for i, _ in read[0][1]])
    # "slow" read four of the old ones and acked only the first two: the third is pending.
    slow = await redis_client.xreadgroup("slow", "c", {stream: ">"}, count=4)
    await redis_client.xack(stream, "slow", *[i for i, _ in slow[0][1][:2]])

    removed = await trim_by_age(redis_client, [stream], max_age_s=30 * 86400)

    left = [i.decode() for i, _ in await redis_client.xrange(stream)]
    assert removed == 2
    assert left[:4] == ids[2:]  # from the oldest entry "slow" still has pending
    assert len(left) == 5
    # Once "slow" is done, everything older than 30 days goes.
    rest = await redis_client.xreadgroup("slow", "c", {stream: ">"})
    await redis_client.xack(
        stream, "slow", *[i for i, _ in slow[0][1][2:]], *[i for i, _ in rest[0][1]]
    )
    assert await trim_by_age(redis_client, [stream], max_age_s=30 * 86400) == 4
    assert len(await redis_client.xrange(stream)) == 1


async def test_a_stream_that_does_not_exist_yet_is_left_alone(redis_client: Redis) -> None:
    assert await trim_by_age(redis_client, ["sec.none.v1"], max_age_s=1) == 0
