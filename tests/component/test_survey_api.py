"""Survey service against a real database and the machine's Redis: answers in, IKM out."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from redis.asyncio import Redis

from services.survey.app import MIGRATIONS, create_app
from services.survey.settings import Settings
from shared.auth import issue_token
from shared.contracts import ResponseSubmittedV1
from tests.factories import publish
from tests.support import ADMIN_TOKEN, auth, running_app, wait_for

pytestmark = pytest.mark.integration

EXAMPLE = dict(zip([f"U{i}" for i in range(1, 10)], [4, 3, 3, 4, 3, 3, 4, 4, 3], strict=True))
ALL_FOUR = {f"U{i}": 4 for i in range(1, 10)}


@pytest.fixture
def settings(settings_for: Callable[..., Settings]) -> Settings:
    return settings_for(Settings)


def submitted(
    local_date: date, scores: dict[str, int | None], unit: str = "kantor-kecamatan"
) -> ResponseSubmittedV1:
    """A ResponseSubmittedV1 as the survey's own outbox would publish it."""
    return ResponseSubmittedV1(
        tenant="mojosari",
        source="survey",
        correlation_id=f"test-{uuid.uuid4().hex[:8]}",
        response_id=uuid.uuid4(),
        unit=unit,
        local_date=local_date,
        scores=scores,
        submitted_at=datetime(local_date.year, local_date.month, local_date.day, 3, tzinfo=UTC),
    )


async def ikm(client: Any, **params: Any) -> dict[str, Any]:
    response = await client.get("/api/v1/ikm", params=params, headers=auth())
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def ikm_once(client: Any, responses: int, **params: Any) -> dict[str, Any]:
    """Waits until the aggregator has counted `responses` for the query, then returns it."""

    async def probe() -> dict[str, Any] | None:
        body = await ikm(client, **params)
        return body if body["responses"] >= responses else None

    return await wait_for(probe, what=f"{responses} aggregated responses")


async def test_one_response_shows_86_11_b_baik_and_all_fours_show_100_a(settings: Settings) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        first = await client.post(
            "/api/v1/units/kantor-kecamatan/responses",
            json={"scores": EXAMPLE, "gender": "P", "education": "SMA"},
        )
        assert first.status_code == 201, first.text
        assert first.json()["message"] == "Terima kasih, penilaian Anda sudah kami terima."
        second = await client.post(
            "/api/v1/units/si-genz-menjamu/responses", json={"scores": ALL_FOUR}
        )
        assert second.status_code == 201, second.text

        office = await ikm_once(client, 1, unit="kantor-kecamatan")
        assert office["konversi_display"] == "86.11"
        assert (office["mutu"], office["kinerja"]) == ("B", "Baik")
        assert office["ikm_display"] == "3.444"
        assert office["unsur"][3]["name"] == "Biaya/tarif"
        assert office["unit_name"] == "Kantor Kecamatan Mojosari"
        assert office["from"].endswith("-01-01") and office["to"].endswith("-12-31")

        programme = await ikm_once(client, 1, unit="si-genz-menjamu")
        assert (programme["konversi_display"], programme["mutu"]) == ("100.00", "A")
        assert programme["kinerja"] == "Sangat Baik"

        both = await ikm_once(client, 2)
        assert both["unit"] is None and both["responses"] == 2


async def test_an_unsur_left_empty_does_not_count_in_its_denominator(settings: Settings) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        for scores in ({**ALL_FOUR, "U8": None}, {f"U{i}": 2 for i in range(1, 10)}):
            response = await client.post(
                "/api/v1/units/kantor-kecamatan/responses", json={"scores": scores}
            )
            assert response.status_code == 201, response.text
        body = await ikm_once(client, 2, unit="kantor-kecamatan")
        u8 = body["unsur"][7]
        assert (u8["code"], u8["answered"], u8["nrr_display"]) == ("U8", 1, "2.00")
        assert body["unsur"][0]["nrr_display"] == "3.00"
        # (8 x 3 + 2) / 9 x 25 = 72.22; counting the empty U8 as answered would give 69.44.
        assert (body["konversi_display"], body["mutu"]) == ("72.22", "C")


async def test_second_delivery_of_the_same_response_counts_once(
    settings: Settings, redis_url: str
) -> None:
    redis = Redis.from_url(redis_url)
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        day = date(2025, 3, 10)
        ids = await publish(redis, submitted(day, EXAMPLE), times=2)

        async def both_acked() -> bool:
            groups = await redis.xinfo_groups(ResponseSubmittedV1.STREAM)
            group = next(g for g in groups if g["name"] == b"survey.aggregate")
            return group["last-delivered-id"].decode() == ids[1] and group["pending"] == 0

        await wait_for(both_acked, what="both copies handled and acked")
        body = await ikm(client, **{"from": "2025-03-10", "to": "2025-03-10"})
        assert body["responses"] == 1
        assert body["unsur"][0]["score_sum"] == 4 and body["unsur"][0]["answered"] == 1
        assert body["konversi_display"] == "86.11"
    await redis.aclose()


async def test_the_period_filters_responses_by_their_local_date(
    settings: Settings, redis_url: str
) -> None:
    redis = Redis.from_url(redis_url)
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        await publish(redis, submitted(date(2025, 1, 31), ALL_FOUR))
        await publish(redis, submitted(date(2025, 2, 1), {f"U{i}": 1 for i in range(1, 10)}))
        whole = await ikm_once(client, 2, **{"from": "2025-01-01", "to": "2025-12-31"})
        assert whole["konversi_display"] == "62.50"
        january = await ikm(client, **{"from": "2025-01-01", "to": "2025-01-31"})
        assert (january["responses"], january["konversi_display"]) == (1, "100.00")
        february = await ikm(client, **{"from": "2025-02-01", "to": "2025-02-01"})
        assert (february["responses"], february["konversi_display"]) == (1, "25.00")
        empty = await ikm(client, **{"from": "2024-01-01", "to": "2024-12-31"})
        assert (empty["responses"], empty["konversi_display"], empty["mutu"]) == (0, None, None)
        backwards = await client.get(
            "/api/v1/ikm", headers=auth(), params={"from": "2025-02-01", "to": "2025-01-01"}
        )
        assert backwards.status_code == 422
        assert backwards.json()["fields"][0]["field"] == "from"
    await redis.aclose()


async def test_population_tells_whether_the_period_met_the_minimum_sample(
    settings: Settings,
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        await client.post("/api/v1/units/kantor-kecamatan/responses", json={"scores": ALL_FOUR})
        await ikm_once(client, 1)
        body = await ikm(client, population=100)
        assert body["population"] == {"population": 100, "minimum_sample": 80, "sufficient": False}
        older = await ikm(client, scheme="kepmenpan-25-2004")
        assert older["scheme_id"] == "kepmenpan-25-2004"
        unknown = await client.get("/api/v1/ikm", params={"scheme": "x"}, headers=auth())
        assert unknown.status_code == 422
        assert "Skema 'x' tidak dikenal" in unknown.json()["message"]


async def test_bad_answers_are_refused_naming_the_field_in_indonesian(settings: Settings) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        url = "/api/v1/units/kantor-kecamatan/responses"
        bad = await client.post(url, json={"scores": {**EXAMPLE, "U3": 5}})
        assert bad.status_code == 422
        assert bad.json()["fields"] == [
            {"field": "scores.U3", "label": "Nilai U3", "message": "Nilai U3 harus antara 1 dan 4."}
        ]
        extra = await client.post(url, json={"scores": {**EXAMPLE, "U10": 4}})
        assert extra.status_code == 422
        assert extra.json()["fields"][0]["field"] == "scores.U10"
        blank = await client.post(url, json={"scores": dict.fromkeys(EXAMPLE)})
        assert blank.status_code == 422
        assert blank.json()["fields"][0]["message"].startswith("Nilai belum diisi")
        profile = await client.post(
            url, json={"scores": EXAMPLE, "gender": "X", "education": "SMK", "phone": "0212345678"}
        )
        messages = {f["field"]: f["message"] for f in profile.json()["fields"]}
        assert messages["gender"] == "Jenis kelamin harus L (laki-laki) atau P (perempuan)."
        assert messages["education"].startswith("Pendidikan harus salah satu dari: SD, SMP")
        assert messages["phone"].startswith("Nomor HP harus nomor seluler Indonesia")


async def test_unknown_unit_answers_404_in_indonesian(settings: Settings) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        response = await client.post("/api/v1/units/tidak-ada/responses", json={"scores": EXAMPLE})
        assert response.status_code == 404
        assert "Unit layanan 'tidak-ada' tidak ditemukan" in response.json()["message"]
        page = await client.get("/survei/tidak-ada")
        assert page.status_code == 404
        report = await client.get("/api/v1/ikm", params={"unit": "tidak-ada"}, headers=auth())
        assert report.status_code == 404


async def test_personal_data_stays_out_of_the_event(settings: Settings, redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        response = await client.post(
            "/api/v1/units/kantor-kecamatan/responses",
            json={
                "scores": EXAMPLE,
                "name": "Ayu Lestari",
                "phone": "0812-3456-7890",
                "suggestion": "Antrean lebih cepat",
                "service_type": "Akta Kematian",
            },
        )
        assert response.status_code == 201, response.text
        entries = await wait_for(
            lambda: redis.xrange(ResponseSubmittedV1.STREAM), what="the event on its stream"
        )
        raw = entries[0][1][b"__data__"]
        assert response.json()["id"].encode() in raw
        for secret in (b"Ayu", b"81234567890", b"Antrean"):
            assert secret not in raw
    await redis.aclose()


async def test_ikm_report_needs_an_operator_of_the_tenant(settings: Settings) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        assert (await client.get("/api/v1/ikm")).status_code == 401
        mentor = issue_token(ADMIN_TOKEN, role="mentor", tenant="mojosari", subject="m1")
        assert (await client.get("/api/v1/ikm", headers=auth(mentor))).status_code == 403
        other = issue_token(ADMIN_TOKEN, role="operator", tenant="lain", subject="op-lain")
        refused = await client.get(
            "/api/v1/ikm", params={"tenant": "mojosari"}, headers=auth(other)
        )
        assert refused.status_code == 403
        operator = issue_token(ADMIN_TOKEN, role="operator", tenant="mojosari", subject="op1")
        assert (await client.get("/api/v1/ikm", headers=auth(operator))).status_code == 200


async def test_units_come_from_the_tenant_file_once_and_have_a_phone_form(
    settings: Settings,
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        pass
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        units = (await client.get("/api/v1/units")).json()
        assert [u["code"] for u in units] == ["kantor-kecamatan", "si-genz-menjamu"]
        assert units[0]["form_url"].endswith("/survei/kantor-kecamatan")
        page = await client.get("/survei/kantor-kecamatan")
        assert page.status_code == 200
        assert "Kantor Kecamatan Mojosari" in page.text
        assert "Sangat mahal" in page.text and "Gratis" in page.text
