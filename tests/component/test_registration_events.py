"""Events (kegiatan): times in the tenant's zone, desa, window, edits, closing, date moves."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from redis.asyncio import Redis

from services.registration.app import MIGRATIONS, create_app
from services.registration.settings import Settings
from shared.auth import issue_token
from shared.contracts import ActivityChangedV1, ParticipantRegisteredV1
from tests.registration_support import (
    create_event,
    listed,
    participant,
    register,
    stream_events,
)
from tests.support import ADMIN_TOKEN, auth, running_app, wait_for

pytestmark = pytest.mark.integration

FULL = {
    "title": "Sosialisasi KTP-el Pemula",
    "starts_at": "2026-12-05T08:00",
    "ends_at": "2026-12-05T11:30",
    "venue": "Balai Desa Seduri",
    "desa": "Seduri",
    "capacity": 2,
    "certificate_policy": "on_check_in",
    "whatsapp_cohort": "Seduri Desember 2026",
}


@pytest.fixture
def settings(settings_for: Callable[..., Settings]) -> Settings:
    return settings_for(Settings)


async def test_local_times_are_stored_in_utc_and_shown_in_wib(settings: Settings) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        created = await client.post("/api/v1/events", json=FULL, headers=auth())
        assert created.status_code == 201, created.text
        event = created.json()
        assert event["starts_at"] == "2026-12-05T08:00:00+07:00"
        assert event["ends_at"] == "2026-12-05T11:30:00+07:00"
        assert (event["date"], event["venue"], event["location"]) == (
            "2026-12-05",
            "Balai Desa Seduri",
            "Balai Desa Seduri",
        )
        assert (event["desa"], event["certificate_policy"]) == ("Seduri", "on_check_in")
        utc = await client.post(
            "/api/v1/events",
            json={**FULL, "starts_at": "2026-12-05T01:00:00Z", "ends_at": None},
            headers=auth(),
        )
        assert utc.json()["starts_at"] == "2026-12-05T08:00:00+07:00"
        page = await client.get(f"/daftar/{event['id']}")
        assert "Sabtu, 5 Desember 2026, 08.00-11.30 WIB" in page.text


async def test_bad_event_fields_are_named(settings: Settings) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        for body, field in (
            ({**FULL, "desa": "Gondang"}, "desa"),
            ({**FULL, "ends_at": "2026-12-05T07:00"}, "ends_at"),
            ({**FULL, "certificate_policy": "kapan-kapan"}, "certificate_policy"),
            ({"title": "Tanpa waktu", "venue": "Aula"}, "starts_at"),
        ):
            refused = await client.post("/api/v1/events", json=body, headers=auth())
            assert refused.status_code == 422, body
            assert refused.json()["fields"][0]["field"] == field
        event_id = (await client.post("/api/v1/events", json=FULL, headers=auth())).json()["id"]
        for field in ("title", "venue", "location", "date", "certificate_policy"):
            emptied = await client.patch(
                f"/api/v1/events/{event_id}", json={field: None}, headers=auth()
            )
            assert emptied.status_code == 422, field
            assert emptied.json()["fields"][0]["field"] == field
            assert "tidak boleh dikosongkan" in emptied.json()["fields"][0]["message"]
        cleared = await client.patch(
            f"/api/v1/events/{event_id}", json={"desa": None, "capacity": None}, headers=auth()
        )
        assert cleared.status_code == 200
        assert (cleared.json()["desa"], cleared.json()["capacity"]) == (None, None)


async def test_events_are_listed_by_desa_and_date(settings: Settings) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        seduri = await create_event(client, **{**FULL, "capacity": None})
        await create_event(
            client, **{**FULL, "desa": "Kauman", "starts_at": "2027-01-10T08:00", "ends_at": None}
        )
        await create_event(client, date="2026-11-20")  # the first API: {date, location}
        by_desa = await client.get("/api/v1/events", params={"desa": "Seduri"}, headers=auth())
        assert [e["id"] for e in by_desa.json()] == [seduri]
        december = await client.get(
            "/api/v1/events", params={"from": "2026-12-01", "to": "2026-12-31"}, headers=auth()
        )
        assert len(december.json()) == 2
        assert all(e["date"].startswith("2026-12") for e in december.json())


async def test_registration_window_and_closing_refuse_sign_ups(settings: Settings) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        later = await create_event(client, registration_opens_at="2099-01-01T08:00")
        early = await register(client, later, **participant())
        assert early.status_code == 409 and "belum dibuka" in early.json()["message"]
        past = await create_event(
            client,
            registration_opens_at="2020-01-01T08:00",
            registration_closes_at="2020-02-01T08:00",
        )
        assert (await register(client, past, **participant())).status_code == 409
        event_id = await create_event(client)
        closed = await client.post(f"/api/v1/events/{event_id}/close", headers=auth())
        assert closed.json()["registration_open"] is False
        refused = await register(client, event_id, **participant())
        assert refused.status_code == 409
        assert refused.json()["message"] == "Pendaftaran untuk kegiatan ini sudah ditutup."
        assert "sudah ditutup" in (await client.get(f"/daftar/{event_id}")).text


async def test_capacity_cannot_shrink_below_the_registered_count(settings: Settings) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        event_id = await create_event(client, capacity=3)
        for _ in range(3):
            await register(client, event_id, **participant())
        refused = await client.patch(
            f"/api/v1/events/{event_id}", json={"capacity": 2}, headers=auth()
        )
        assert refused.status_code == 409
        assert refused.json()["fields"][0]["field"] == "capacity"
        assert "(3)" in refused.json()["message"]
        event = (await client.get(f"/api/v1/events/{event_id}")).json()
        assert event["capacity"] == 3


async def test_larger_capacity_promotes_the_waiting_list(
    settings: Settings, redis_url: str
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        event_id = await create_event(client, capacity=1)
        for _ in range(3):
            await register(client, event_id, **participant())
        grown = await client.patch(
            f"/api/v1/events/{event_id}", json={"capacity": 2}, headers=auth()
        )
        assert (grown.json()["registered_count"], grown.json()["waitlisted_count"]) == (2, 1)
        rows = await listed(client, event_id, status="waitlisted")
        assert [r["waitlist_position"] for r in rows] == [1]
        redis = Redis.from_url(redis_url)
        await wait_for(
            lambda: _length_is(redis, ParticipantRegisteredV1.STREAM, 2), what="2 registered events"
        )
        await redis.aclose()


async def _length_is(redis: Redis, stream: str, count: int) -> bool:
    return int(await redis.xlen(stream)) == count


async def test_moving_the_date_tells_registered_participants(
    settings: Settings, redis_url: str
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        event_id = await create_event(client, **{**FULL, "capacity": 1})
        first = (await register(client, event_id, **participant())).json()["registration"]
        await register(client, event_id, **participant())  # waitlisted: not told
        retitled = await client.patch(
            f"/api/v1/events/{event_id}", json={"title": "Judul baru"}, headers=auth()
        )
        assert retitled.status_code == 200
        moved = await client.patch(
            f"/api/v1/events/{event_id}",
            json={"starts_at": "2026-12-12T09:00", "ends_at": "2026-12-12T12:00"},
            headers=auth(),
        )
        assert moved.json()["date"] == "2026-12-12"
        redis = Redis.from_url(redis_url)
        changes = await wait_for(
            lambda: stream_events(redis, ActivityChangedV1), what="the change on its stream"
        )
        await redis.aclose()
        assert len(changes) == 1  # a new title alone is no move
        change = changes[0]
        assert change.previous_date.isoformat() == "2026-12-05"
        assert change.activity_date.isoformat() == "2026-12-12"
        assert [str(r) for r in change.registration_ids] == [first["id"]]
        assert {"date", "starts_at", "ends_at"} <= set(change.changed_fields)


async def test_another_tenants_operator_cannot_edit_or_list(settings: Settings) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        event_id = await create_event(client)
        # Another kecamatan's operator (a deployment that serves it signs the token; this one
        # refuses to issue tokens for kecamatan it does not know).
        other = issue_token(ADMIN_TOKEN, role="operator", tenant="kecamatan-lain", subject="op")
        for method, path, body in (
            ("PATCH", f"/api/v1/events/{event_id}", {"capacity": 9}),
            ("POST", f"/api/v1/events/{event_id}/close", None),
            ("GET", f"/api/v1/events/{event_id}/registrations", None),
            ("GET", f"/api/v1/events/{event_id}/registrations/export", None),
            ("POST", f"/api/v1/events/{event_id}/check-ins", {"code": "ABCDEFGH"}),
        ):
            answer = await client.request(method, path, json=body, headers=auth(other))
            assert answer.status_code == 403, (method, path, answer.text)
        listing = await client.get("/api/v1/events", headers=auth(other))
        assert listing.json() == []


async def test_a_bad_time_is_explained_in_indonesian(settings: Settings) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        refused = await client.post(
            "/api/v1/events", json={**FULL, "starts_at": "besok pagi"}, headers=auth()
        )
        assert refused.status_code == 422
        field = refused.json()["fields"][0]
        assert field["field"] == "starts_at"
        assert field["message"].startswith("Waktu mulai harus berupa waktu dengan format")


async def test_refused_and_repeated_sign_ups_take_no_place(settings: Settings) -> None:
    """The sign-up counts its place before it knows it is refused or a repeat: it must undo it."""
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        event_id = await create_event(client, capacity=2)
        ayu = participant()
        assert (await register(client, event_id, **ayu)).status_code == 201
        wrong_level = await register(client, event_id, **participant(level="Kuliah"))
        assert wrong_level.status_code == 422
        await client.post(f"/api/v1/events/{event_id}/close", headers=auth())
        repeat = await register(client, event_id, **ayu)
        assert repeat.status_code == 200 and repeat.json()["already_registered"] is True
        assert (await register(client, event_id, **participant())).status_code == 409
        await client.patch(
            f"/api/v1/events/{event_id}", json={"registration_open": True}, headers=auth()
        )
        second = (await register(client, event_id, **participant())).json()["registration"]
        third = (await register(client, event_id, **participant())).json()["registration"]
        assert second["status"] == "registered"
        assert (third["status"], third["waitlist_position"]) == ("waitlisted", 1)
