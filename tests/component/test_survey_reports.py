"""The IKM report an office hands in: periods, weights, trend, units, profiles, guided."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from redis.asyncio import Redis

from services.survey.app import MIGRATIONS, create_app
from services.survey.settings import Settings
from shared.contracts import ResponseSubmittedV1
from tests.factories import publish
from tests.support import auth, running_app, wait_for

pytestmark = pytest.mark.integration
ALL = [f"U{i}" for i in range(1, 10)]


@pytest.fixture
def settings(settings_for: Callable[..., Settings]) -> Settings:
    return settings_for(Settings)


def submitted(day: date, score: int | None, unit: str = "kantor-kecamatan", **kw: Any) -> Any:
    """A ResponseSubmittedV1 giving every unsur the same score (None: all blank but U1)."""
    scores: dict[str, int | None] = dict.fromkeys(ALL, score)
    if score is None:
        scores["U1"] = 4
    return ResponseSubmittedV1(
        tenant="mojosari", source="survey", correlation_id=f"t-{uuid.uuid4().hex[:6]}",
        response_id=uuid.uuid4(), unit=unit, local_date=day, scores=scores,
        submitted_at=datetime(day.year, day.month, day.day, 3, tzinfo=UTC), **kw,
    )  # fmt: skip


async def get(client: Any, **params: Any) -> dict[str, Any]:
    answer = await client.get("/api/v1/ikm", params=params, headers=auth())
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_periods_trend_units_profiles_and_guided_side_by_side(
    settings: Settings, redis_url: str
) -> None:
    redis = Redis.from_url(redis_url)
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        events = [
            submitted(date(2025, 1, 15), 4, gender="P", age_band="20-29", guided=True),
            submitted(date(2025, 2, 3), 3, gender="L", guided=False),
            submitted(date(2025, 4, 1), 2, unit="si-genz-menjamu", guided=False),
        ]
        for e in events:
            await publish(redis, e)

        async def counted() -> dict[str, Any] | None:
            body = await get(client, period="2025")
            return body if body["responses"] == 3 else None

        year = await wait_for(counted, what="three aggregated responses")
        assert year["from"] == "2025-01-01" and year["to"] == "2025-12-31"
        assert [(m["month"], m["konversi_display"]) for m in year["trend"]] == [
            ("2025-01", "100.00"), ("2025-02", "75.00"), ("2025-04", "50.00"),
        ]  # fmt: skip
        units = {u["unit"]: (u["responses"], u["konversi_display"]) for u in year["units"]}
        assert units == {"kantor-kecamatan": (2, "87.50"), "si-genz-menjamu": (1, "50.00")}
        assert year["profile"]["gender"] == {"L": 1, "P": 1}
        assert year["profile"]["age_band"] == {"20-29": 1}
        guided, unguided = year["guided"]["guided"], year["guided"]["unguided"]
        assert (guided["responses"], guided["konversi_display"]) == (1, "100.00")
        assert (unguided["responses"], unguided["konversi_display"]) == (2, "62.50")

        q1 = await get(client, period="2025-Q1", unit="kantor-kecamatan")
        assert (q1["from"], q1["to"], q1["responses"]) == ("2025-01-01", "2025-03-31", 2)
        assert (await get(client, period="2025-S2"))["responses"] == 0
        assert (await get(client, period="2025-02"))["konversi_display"] == "75.00"
        bad = await client.get("/api/v1/ikm", params={"period": "2025-13"}, headers=auth())
        assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "period"
    await redis.aclose()


async def test_the_weight_parameter_makes_a_printed_variant_the_labelled_headline(
    settings: Settings, redis_url: str
) -> None:
    redis = Redis.from_url(redis_url)
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        await publish(redis, submitted(date(2025, 3, 1), 4))

        async def counted() -> dict[str, Any] | None:
            body = await get(client, period="2025-03")
            return body if body["responses"] == 1 else None

        exact = await wait_for(counted, what="one aggregated response")
        assert exact["headline"]["konversi_display"] == "100.00"
        assert "tepat" in exact["headline"]["label"]
        w11 = await get(client, period="2025-03", weight="0.11")
        assert (w11["headline"]["konversi_display"], w11["headline"]["label"][:10]) == (
            "99.00", "bobot 0,11",
        )  # fmt: skip
        assert w11["konversi_display"] == "100.00"  # the exact figure keeps its field
        w111 = await get(client, period="2025-03", weight="0.111")
        assert w111["headline"]["konversi_display"] == "99.90"
        bad = await client.get("/api/v1/ikm", params={"weight": "0.1"}, headers=auth())
        assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "weight"
    await redis.aclose()


async def test_only_u1_answered_is_reported_incomplete_at_the_headline(
    settings: Settings, redis_url: str
) -> None:
    redis = Redis.from_url(redis_url)
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        await publish(redis, submitted(date(2025, 5, 2), None))

        async def counted() -> dict[str, Any] | None:
            body = await get(client, period="2025-05")
            return body if body["responses"] == 1 else None

        body = await wait_for(counted, what="one aggregated response")
        assert body["headline"]["status"] == "tidak_lengkap"
        assert "IKM tidak dihitung" in body["headline"]["message"]
        assert "U9 (Sarana dan prasarana)" in body["headline"]["message"]
        assert (body["mutu"], body["kinerja"], body["konversi_display"]) == (None, None, None)
        assert body["partial_konversi_display"] == "100.00" and body["complete"] is False
        for variant in body["printed_variants"]:
            assert variant["mutu"] is None
            assert float(variant["konversi_display"]) <= 100
    await redis.aclose()


async def test_any_from_to_adds_up_whole_months_and_the_days_at_the_edges(
    settings: Settings, redis_url: str
) -> None:
    redis = Redis.from_url(redis_url)
    days = {date(2025, 1, 31): 4, date(2025, 2, 1): 1, date(2025, 2, 28): 2,
            date(2025, 3, 1): 3, date(2025, 3, 31): 4, date(2025, 4, 1): 1}  # fmt: skip
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        for day, score in days.items():
            await publish(redis, submitted(day, score, gender="P"))

        async def counted() -> dict[str, Any] | None:
            body = await get(client, period="2025")
            return body if body["responses"] == len(days) else None

        await wait_for(counted, what="six aggregated responses")
        for first, last in [
            (date(2025, 1, 31), date(2025, 3, 31)),  # an edge day, then two whole months
            (date(2025, 2, 1), date(2025, 4, 1)),  # whole months, then an edge day
            (date(2025, 2, 28), date(2025, 3, 1)),  # no whole month at all
            (date(2025, 1, 1), date(2025, 12, 31)),
        ]:
            inside = [s for d, s in days.items() if first <= d <= last]
            body = await get(client, **{"from": first.isoformat(), "to": last.isoformat()})
            assert body["responses"] == len(inside), (first, last)
            assert body["unsur"][0]["score_sum"] == sum(inside), (first, last)
            assert sum(m["responses"] for m in body["trend"]) == len(inside)
            assert body["profile"]["gender"] == {"P": len(inside)}
    await redis.aclose()
