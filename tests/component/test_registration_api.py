"""Registration service against a real database and the machine's Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from services.registration.app import MIGRATIONS, create_app
from services.registration.settings import Settings
from shared.auth import issue_token
from shared.contracts import ParticipantRegisteredV1
from tests.support import ADMIN_TOKEN, auth, running_app, wait_for

pytestmark = pytest.mark.integration

PARTICIPANT = {
    "name": "Ayu Lestari",
    "school": "SMAN 1 Mojosari",
    "phone": "0812-3456-7890",
    "level": "SMA",
    "desa": "Wonokusumo",
    "consent": True,
}
EVENT = {
    "title": "Sosialisasi Adminduk untuk Gen-Z",
    "date": "2026-12-05",
    "location": "Pendopo Kecamatan Mojosari",
}


@pytest.fixture
def settings(settings_for: Callable[..., Settings]) -> Settings:
    return settings_for(Settings)


async def _create_event(client: Any, **overrides: Any) -> str:
    response = await client.post("/api/v1/events", json={**EVENT, **overrides}, headers=auth())
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_registration_is_stored_and_announced_on_its_stream(
    settings: Settings, redis_url: str
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        event_id = await _create_event(client)
        response = await client.post(
            f"/api/v1/events/{event_id}/registrations",
            json=PARTICIPANT,
            headers={"X-Correlation-ID": "corr-1"},
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["registration"]["phone"] == "+6281234567890"
        redis = Redis.from_url(redis_url)
        entries = await wait_for(
            lambda: redis.xrange(ParticipantRegisteredV1.STREAM), what="the event on its stream"
        )
        assert len(entries) == 1
        listed = await client.get(f"/api/v1/events/{event_id}/registrations", headers=auth())
        assert [r["id"] for r in listed.json()] == [body["registration"]["id"]]
        await redis.aclose()


async def test_second_submission_with_same_phone_returns_the_first_registration(
    settings: Settings, redis_url: str
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        event_id = await _create_event(client)
        first = await client.post(f"/api/v1/events/{event_id}/registrations", json=PARTICIPANT)
        again = await client.post(
            f"/api/v1/events/{event_id}/registrations",
            json={**PARTICIPANT, "phone": "+62 812 3456 7890"},
        )
        assert again.status_code == 200
        assert again.json()["already_registered"] is True
        assert again.json()["registration"]["id"] == first.json()["registration"]["id"]
        redis = Redis.from_url(redis_url)
        await wait_for(lambda: redis.xlen(ParticipantRegisteredV1.STREAM), what="one event")
        assert await redis.xlen(ParticipantRegisteredV1.STREAM) == 1
        await redis.aclose()


async def test_bad_input_names_each_field_in_indonesian(settings: Settings) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        event_id = await _create_event(client)
        response = await client.post(
            f"/api/v1/events/{event_id}/registrations",
            json={
                "name": "Ayu",
                "school": "SMAN 1",
                "phone": "0212345678",
                "level": "SMA",
                "consent": False,
            },
        )
        assert response.status_code == 422
        fields = {f["field"]: f["message"] for f in response.json()["fields"]}
        assert fields["phone"].startswith("Nomor HP harus nomor seluler Indonesia")
        assert fields["consent"].startswith("Persetujuan wajib disetujui")
        wrong_level = await client.post(
            f"/api/v1/events/{event_id}/registrations", json={**PARTICIPANT, "level": "SD"}
        )
        assert wrong_level.status_code == 422
        assert wrong_level.json()["fields"][0]["field"] == "level"
        assert "SMP, SMA, Mahasiswa" in wrong_level.json()["message"]


async def test_full_event_refuses_more_participants(settings: Settings) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        event_id = await _create_event(client, capacity=1)
        ok = await client.post(f"/api/v1/events/{event_id}/registrations", json=PARTICIPANT)
        assert ok.status_code == 201
        full = await client.post(
            f"/api/v1/events/{event_id}/registrations",
            json={**PARTICIPANT, "phone": "081299998888"},
        )
        assert full.status_code == 409
        assert full.json()["message"] == "Kuota peserta kegiatan ini sudah penuh."


async def test_operator_endpoints_need_a_token_of_the_right_tenant(settings: Settings) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        anonymous = await client.post("/api/v1/events", json=EVENT)
        assert anonymous.status_code == 401
        assert "Authorization: Bearer" in anonymous.json()["message"]
        # A token of another kecamatan (one this deployment does not serve, so the API would
        # refuse to issue it: sign it directly, as that kecamatan's own deployment would).
        other = issue_token(ADMIN_TOKEN, role="operator", tenant="kecamatan-lain", subject="op")
        refused = await client.post(
            "/api/v1/events", json={**EVENT, "tenant": "mojosari"}, headers=auth(other)
        )
        assert refused.status_code == 403
        mentor = (
            await client.post(
                "/api/v1/tokens",
                headers=auth(),
                json={"role": "mentor", "tenant": "mojosari", "subject": "mentor1"},
            )
        ).json()["token"]
        assert (
            await client.post("/api/v1/events", json=EVENT, headers=auth(mentor))
        ).status_code == 403
        operator = (
            await client.post(
                "/api/v1/tokens",
                headers=auth(),
                json={"role": "operator", "tenant": "mojosari", "subject": "op1"},
            )
        ).json()["token"]
        assert (
            await client.post("/api/v1/events", json=EVENT, headers=auth(operator))
        ).status_code == 201


async def test_public_form_page_shows_the_event_and_the_tenant_levels(settings: Settings) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        event_id = await _create_event(client, title="Sosialisasi <KTP-el>")
        page = await client.get(f"/daftar/{event_id}")
        assert page.status_code == 200
        assert "Sosialisasi &lt;KTP-el&gt;" in page.text
        assert "5 Desember 2026" in page.text
        assert "<option>Organisasi Masyarakat</option>" in page.text
        missing = await client.get(f"/daftar/{uuid.uuid4()}")
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("text/html")  # a page, not raw JSON
        assert "Kegiatan tidak ditemukan" in missing.text


async def test_simultaneous_double_submissions_register_once(settings: Settings) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        event_id = await _create_event(client)
        url = f"/api/v1/events/{event_id}/registrations"
        answers = await asyncio.gather(*(client.post(url, json=PARTICIPANT) for _ in range(6)))
        assert sorted(r.status_code for r in answers) == [200] * 5 + [201]
        assert len({r.json()["registration"]["id"] for r in answers}) == 1
