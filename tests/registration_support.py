"""Helpers for tests of the registration service over HTTP."""

from __future__ import annotations

import itertools
from typing import Any

import httpx

from tests.support import auth

PARTICIPANT: dict[str, Any] = {
    "name": "Ayu Lestari",
    "school": "SMAN 1 Mojosari",
    "phone": "0812-3456-7890",
    "level": "SMA",
    "desa": "Wonokusumo",
    "consent": True,
}
EVENT: dict[str, Any] = {
    "title": "Sosialisasi Adminduk untuk Gen-Z",
    "date": "2026-12-05",
    "location": "Pendopo Kecamatan Mojosari",
}
_numbers = itertools.count(10_000_001)


def participant(**overrides: Any) -> dict[str, Any]:
    """A participant with a phone number of its own unless given."""
    return {**PARTICIPANT, "phone": f"0812{next(_numbers):08d}", **overrides}


async def create_event(client: httpx.AsyncClient, **overrides: Any) -> str:
    """Creates an event as the admin; returns its id."""
    response = await client.post("/api/v1/events", json={**EVENT, **overrides}, headers=auth())
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def register(client: httpx.AsyncClient, event_id: str, **fields: Any) -> httpx.Response:
    """Posts one sign-up."""
    return await client.post(f"/api/v1/events/{event_id}/registrations", json=fields)


async def listed(client: httpx.AsyncClient, event_id: str, **params: Any) -> list[dict[str, Any]]:
    """The operator's list of an event's registrations."""
    response = await client.get(
        f"/api/v1/events/{event_id}/registrations", params=params, headers=auth()
    )
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()
    return rows


def token_of(confirmation_url: str) -> str:
    """The secret token at the end of a confirmation URL."""
    return confirmation_url.rsplit("/", 1)[1]
