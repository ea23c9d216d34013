"""Helpers for tests of the registration service over HTTP."""

from __future__ import annotations

import itertools
from typing import Any, TypeVar

import httpx
from faststream.redis.parser import BinaryMessageFormatV1
from redis.asyncio import Redis

from shared.contracts import Event
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
E = TypeVar("E", bound=Event)


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


async def stream_events(redis: Redis, model: type[E]) -> list[E]:
    """Every event on a model's stream, decoded as consumers decode it."""
    entries = await redis.xrange(model.STREAM)
    return [
        model.model_validate_json(BinaryMessageFormatV1.parse(fields[b"__data__"])[0])
        for _id, fields in entries
    ]
