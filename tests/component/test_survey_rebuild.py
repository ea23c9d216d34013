"""`menjamu survey rebuild` gives the aggregator's numbers after redeliveries and restarts."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import text

from services.survey.app import MIGRATIONS, create_app
from services.survey.commands import rebuild
from services.survey.settings import Settings
from shared.contracts import ResponseSubmittedV1
from tests.support import auth, running_app, wait_for

pytestmark = pytest.mark.integration
UNITS = ("kantor-kecamatan", "si-genz-menjamu")


@pytest.fixture
def settings(settings_for: Callable[..., Settings]) -> Settings:
    return settings_for(Settings)


def answers(rng: random.Random) -> dict[str, Any]:
    """A varied response: some unsur blank, some profile fields."""
    scores = {f"U{i}": rng.choice([1, 2, 3, 4, 4, None]) for i in range(1, 10)}
    scores["U1"] = rng.randint(1, 4)
    body: dict[str, Any] = {"scores": scores}
    if rng.random() < 0.7:
        body["gender"] = rng.choice(["L", "P"])
    if rng.random() < 0.5:
        body["age"] = rng.randint(15, 70)
    return body


async def post_many(client: Any, rng: random.Random, n: int) -> None:
    for i in range(n):
        unit = UNITS[i % 2]
        answer = await client.post(f"/api/v1/units/{unit}/responses", json=answers(rng))
        assert answer.status_code == 201, answer.text


async def drained_report(app: Any, client: Any, expected: int) -> dict[str, Any]:
    """The year's report once every event is handled and `expected` responses are counted."""
    redis = app.state.runtime.redis

    async def probe() -> dict[str, Any] | None:
        groups = await redis.xinfo_groups(ResponseSubmittedV1.STREAM)
        group = next(g for g in groups if g["name"] == b"survey.aggregate")
        if group["pending"] or group["lag"]:
            return None
        body: dict[str, Any] = (await client.get("/api/v1/ikm", headers=auth())).json()
        return body if body["responses"] == expected else None

    return await wait_for(probe, timeout=60, what=f"{expected} responses aggregated")


async def test_rebuild_after_redeliveries_and_a_restart_gives_identical_numbers(
    settings: Settings, redis_url: str
) -> None:
    rng = random.Random(11)
    redis = Redis.from_url(redis_url)
    async with running_app(create_app, settings, MIGRATIONS) as (app, client):
        await post_many(client, rng, 20)
        await drained_report(app, client, 20)
        # Redeliveries: every event published a second time (a relay that crashed after XADD).
        for _id, fields in await redis.xrange(ResponseSubmittedV1.STREAM):
            await redis.xadd(ResponseSubmittedV1.STREAM, fields)
        await post_many(client, rng, 10)
    # Restart: answers stored while the aggregator is down are counted when it is back.
    async with running_app(create_app, settings, MIGRATIONS) as (app, client):
        await post_many(client, rng, 10)
        before = await drained_report(app, client, 40)
        async with app.state.runtime.db.session() as session:
            # Damage the aggregates the way a bug would; the rebuild must not trust them.
            for table in ("aggregates", "daily_responses", "profile_counts"):
                await session.execute(text(f"DELETE FROM {table} WHERE unit = 'si-genz-menjamu'"))
        damaged = (await client.get("/api/v1/ikm", headers=auth())).json()
        assert damaged["responses"] == 20 and damaged["unsur"] != before["unsur"]
        assert await rebuild(settings) == 40
        after = (await client.get("/api/v1/ikm", headers=auth())).json()
        assert after == before
    await redis.aclose()
