"""Registration service against a real database and the machine's Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import pytest
from redis.asyncio import Redis

from services.registration.app import MIGRATIONS, create_app
from services.registration.settings import Settings
from shared.auth import issue_token
from shared.contracts import ParticipantRegisteredV1
from tests.registration_support import EVENT, PARTICIPANT, create_event, listed, register
from tests.support import ADMIN_TOKEN, auth, running_app, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(settings_for: Callable[..., Settings]) -> Settings:
    return settings_for(Settings)


async def test_registration_is_stored_and_announced_on_its_stream(
    settings: Settings, redis_url: str
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        event_id = await create_event(client)
        response = await client.post(
            f"/api/v1/events/{event_id}/registrations",
            json=PARTICIPANT,
            headers={"X-Correlation-ID": "corr-1"},
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["registration"]["phone"] == "+6281234567890"
        assert body["registration"]["status"] == "registered"
        assert body["registration"]["consent_version"]
        assert body["confirmation_url"].startswith("http")
        redis = Redis.from_url(redis_url)
        entries = await wait_for(
            lambda: redis.xrange(ParticipantRegisteredV1.STREAM), what="the event on its stream"
        )
        assert len(entries) == 1
        rows = await listed(client, event_id)
        assert [r["id"] for r in rows] == [body["registration"]["id"]]
        assert rows[0]["phone"] == "+6281****90"
        await redis.aclose()


async def test_second_submission_with_same_phone_registers_once(
    settings: Settings, redis_url: str
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        event_id = await create_event(client)
        first = await register(client, event_id, **PARTICIPANT)
        again = await register(client, event_id, **{**PARTICIPANT, "phone": "+62 812 3456 7890"})
        assert first.status_code == 201
        assert again.status_code == 200
        assert again.json()["already_registered"] is True
        assert "sudah terdaftar" in again.json()["message"]
        assert len(await listed(client, event_id)) == 1
        redis = Redis.from_url(redis_url)
        await wait_for(lambda: redis.xlen(ParticipantRegisteredV1.STREAM), what="one event")
        assert await redis.xlen(ParticipantRegisteredV1.STREAM) == 1
        await redis.aclose()


async def test_bad_input_names_each_field_in_indonesian(settings: Settings) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        event_id = await create_event(client)
        response = await register(
            client,
            event_id,
            name="Ayu",
            school="SMAN 1",
            phone="0212345678",
            level="SMA",
            consent=False,
        )
        assert response.status_code == 422
        fields = {f["field"]: f["message"] for f in response.json()["fields"]}
        assert fields["phone"].startswith("Nomor HP harus nomor seluler Indonesia")
        assert fields["consent"].startswith("Persetujuan wajib disetujui")
        wrong_level = await register(client, event_id, **{**PARTICIPANT, "level": "SD"})
        assert wrong_level.status_code == 422
        assert wrong_level.json()["fields"][0]["field"] == "level"
        assert "SMP, SMA, Mahasiswa" in wrong_level.json()["message"]
        wrong_desa = await register(client, event_id, **{**PARTICIPANT, "desa": "Gondang"})
        assert wrong_desa.status_code == 422
        assert wrong_desa.json()["fields"][0]["field"] == "desa"


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


async def test_public_form_page_offers_the_tenant_levels_and_desa(settings: Settings) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        event_id = await create_event(client, title="Sosialisasi <KTP-el>")
        page = await client.get(f"/daftar/{event_id}")
        assert page.status_code == 200
        assert "Sosialisasi &lt;KTP-el&gt;" in page.text
        assert "5 Desember 2026" in page.text
        assert "<option>Organisasi Masyarakat</option>" in page.text
        assert "<option>Sumbertanggul</option>" in page.text
        assert page.text.count("<option>", page.text.index('id="desa"')) == 19
        assert "belum berusia 18 tahun" in page.text
        assert (await client.get("/static/register.js")).status_code == 200
        missing = await client.get(f"/daftar/{uuid.uuid4()}")
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("text/html")  # a page, not raw JSON
        assert "Kegiatan tidak ditemukan" in missing.text


async def test_simultaneous_double_submissions_register_once(settings: Settings) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        event_id = await create_event(client)
        url = f"/api/v1/events/{event_id}/registrations"
        answers = await asyncio.gather(*(client.post(url, json=PARTICIPANT) for _ in range(6)))
        assert sorted(r.status_code for r in answers) == [200] * 5 + [201]
        assert len(await listed(client, event_id)) == 1
