"""Helpers for the consultation tests against the fake Cloud API server."""

from __future__ import annotations

import itertools
import time
import uuid
from typing import Any

import httpx

from services.consultation.settings import Settings
from tests.fakes import cloud_api
from tests.support import auth, wait_for

_ids = itertools.count()


def cloud_settings(settings_for: Any, fake: cloud_api.FakeCloudApi, **overrides: Any) -> Settings:
    """Consultation settings that send through the fake Cloud API, fast."""
    values: dict[str, Any] = {
        "public_url": "https://konsultasi.mojosari.test",
        "whatsapp_gateway": "cloud",
        "cloud_api_url": fake.base_url,
        "cloud_phone_number_id": cloud_api.PHONE_NUMBER_ID,
        "cloud_access_token": cloud_api.TOKEN,
        "cloud_app_secret": cloud_api.APP_SECRET,
        "cloud_verify_token": cloud_api.VERIFY_TOKEN,
        "dispatch_interval_ms": 50,
        "send_backoff_base_s": 0.05,
        "send_backoff_max_s": 0.2,
        "send_rate_per_minute": 6000,
        "sweep_interval_s": 0.2,
        "sla_minutes": 10,
    }
    values.update(overrides)
    settings: Settings = settings_for(Settings, **values)
    return settings


async def citizen_says(
    client: httpx.AsyncClient, phone: str, text: str, message_id: str = ""
) -> str:
    """Posts a signed Cloud API webhook with one text message; returns its message id."""
    message_id = message_id or f"wamid.in.{uuid.uuid4().hex}.{next(_ids)}"
    raw, headers = cloud_api.signed(
        cloud_api.inbound_text_payload(phone.lstrip("+"), text, message_id, int(time.time()))
    )
    response = await client.post("/webhooks/whatsapp", content=raw, headers=headers)
    assert response.status_code == 200, response.text
    return message_id


async def received(
    fake: cloud_api.FakeCloudApi, phone: str, contains: str, *, count: int = 1
) -> list[dict[str, Any]]:
    """Waits until the fake holds `count` messages to `phone` whose text contains `contains`."""

    async def probe() -> list[dict[str, Any]] | None:
        found = [m for m in fake.sent_to(phone) if contains in text_of(m)]
        return found if len(found) >= count else None

    return await wait_for(probe, timeout=60, what=f"a message containing {contains!r}")


def text_of(payload: dict[str, Any]) -> str:
    """The readable text of a Cloud API payload (text body, caption or template params)."""
    if payload["type"] == "text":
        return str(payload["text"]["body"])
    if payload["type"] == "document":
        return f"{payload['document'].get('caption', '')} {payload['document']['link']}"
    params = payload["template"].get("components", [{}])[0].get("parameters", [])
    return " ".join([payload["template"]["name"], *(p["text"] for p in params)])


async def add_mentor(
    client: httpx.AsyncClient, name: str, phone: str, *, topics: list[str], capacity: int = 3
) -> tuple[str, str]:
    """Adds an on-duty mentor; returns (mentor id, the mentor's token)."""
    created = await client.post(
        "/api/v1/mentors",
        headers=auth(),
        json={"name": name, "phone": phone, "topics": topics, "capacity": capacity},
    )
    assert created.status_code == 201, created.text
    mentor_id = created.json()["id"]
    duty = await client.post(
        f"/api/v1/mentors/{mentor_id}/duty", headers=auth(), json={"on_duty": True}
    )
    assert duty.status_code == 200 and duty.json()["on_duty_now"] is True, duty.text
    token = await client.post(f"/api/v1/mentors/{mentor_id}/token", headers=auth())
    assert token.status_code == 200, token.text
    return mentor_id, token.json()["token"]


async def conversations(
    client: httpx.AsyncClient, token: str, **params: str
) -> list[dict[str, Any]]:
    """The inbox list as the token's holder sees it."""
    response = await client.get("/api/v1/conversations", headers=auth(token), params=params)
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()
    return result


async def assigned_to(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    """Waits for a conversation assigned to the token's mentor."""

    async def probe() -> dict[str, Any] | None:
        found = [c for c in await conversations(client, token) if c["status"] == "assigned"]
        return found[0] if found else None

    return await wait_for(probe, timeout=60, what="a conversation assigned to the mentor")
