"""Findings 8, 10, 11 on the registration API: Unicode digits, invisible names, loose types."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from services.registration.app import MIGRATIONS, create_app
from services.registration.settings import Settings
from tests.registration_support import EVENT, create_event, listed, participant, register
from tests.support import auth, running_app

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(settings_for: Callable[..., Settings]) -> Settings:
    return settings_for(Settings)


@pytest.mark.parametrize(
    "phone", ["0812３4567890", "٠٨١٢٣٤٥٦٧٨٩٠", "۰۸۱۲۳۴۵۶۷۸۹۰", "0812\u200b34567890", "+6591234567"]
)
async def test_phones_that_are_not_plain_indonesian_mobiles_are_refused_naming_the_field(
    settings: Settings, phone: str
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        event_id = await create_event(client)
        refused = await register(client, event_id, **participant(phone=phone))
        assert refused.status_code == 422, refused.text
        assert refused.json()["fields"][0]["field"] == "phone"
        assert refused.json()["fields"][0]["message"].startswith("Nomor HP ")
        assert await listed(client, event_id) == []


async def test_names_are_normalised_and_invisible_characters_removed(settings: Settings) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        event_id = await create_event(client)
        tricky = "A\u0301yu\u200b Les\x1b[31mtari\u202e\x00\x07"
        stored = await register(client, event_id, **participant(name=tricky))
        assert stored.status_code == 201, stored.text
        name = stored.json()["registration"]["name"]
        assert name == "\u00c1yu Les[31mtari"
        for invisible in ("\u200b", "\x1b", "\u202e", "\x00", "\x07"):
            assert invisible not in name
        for empty in ("\u200b\u200c\u200d", "\u202e\u202d", "A\u200b", " 1 2 3 "):
            refused = await register(client, event_id, **participant(name=empty))
            assert refused.status_code == 422, empty
            assert refused.json()["fields"][0]["field"] == "name"
            assert "paling sedikit 2 huruf" in refused.json()["fields"][0]["message"]


async def test_json_types_are_strict(settings: Settings) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        event_id = await create_event(client)
        consent = await register(client, event_id, **participant(consent="yes"))
        assert consent.status_code == 422
        assert consent.json()["fields"][0]["field"] == "consent"
        assert "true atau false" in consent.json()["fields"][0]["message"]
        for value in ("true", 1):
            assert (
                await register(client, event_id, **participant(consent=value))
            ).status_code == 422
        capacity = await client.post(
            "/api/v1/events", json={**EVENT, "capacity": "5"}, headers=auth()
        )
        assert capacity.status_code == 422
        assert capacity.json()["fields"][0]["field"] == "capacity"
        assert "angka bulat" in capacity.json()["fields"][0]["message"]
        assert await listed(client, event_id) == []
