"""Saran and kritik are answered: tickets, replies over WhatsApp by event, response times."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from services.survey.app import MIGRATIONS, create_app
from services.survey.settings import Settings
from shared.auth import issue_token
from shared.contracts import WhatsAppMessageRequestedV1
from tests.support import ADMIN_TOKEN, auth, running_app, wait_for

pytestmark = pytest.mark.integration
URL = "/api/v1/units/kantor-kecamatan/responses"
SCORES = {f"U{i}": 3 for i in range(1, 10)}


@pytest.fixture
def settings(settings_for: Callable[..., Settings]) -> Settings:
    return settings_for(Settings)


async def submit(client: Any, agent: str, **body: Any) -> None:
    answer = await client.post(URL, json={"scores": SCORES, **body}, headers={"User-Agent": agent})
    assert answer.status_code == 201, answer.text


async def test_a_reply_goes_to_whatsapp_only_with_consent_and_times_are_reported(
    settings: Settings, redis_url: str
) -> None:
    redis = Redis.from_url(redis_url)
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        await submit(client, "a", suggestion="Antrean lama", phone="0812-3456-7890",
                     phone_consent=True)  # fmt: skip
        await submit(client, "b", suggestion="Kursi kurang", phone="081298765432")
        await submit(client, "c")
        listed = (await client.get("/api/v1/tickets", headers=auth())).json()
        assert listed["total"] == 2 and {t["status"] for t in listed["items"]} == {"baru"}
        by_text = {t["suggestion"]: t for t in listed["items"]}
        consented, silent = by_text["Antrean lama"], by_text["Kursi kurang"]
        assert consented["can_reply_by_whatsapp"] and not silent["can_reply_by_whatsapp"]
        assert "phone" not in consented

        answer = await client.post(
            f"/api/v1/tickets/{consented['id']}/reply", headers=auth(),
            json={"reply": "Loket kedua kini dibuka pukul 08.00."},
        )  # fmt: skip
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "ditanggapi" and answer.json()["reply_sent_by_whatsapp"]
        entries = await wait_for(
            lambda: redis.xrange(WhatsAppMessageRequestedV1.STREAM), what="the WhatsApp request"
        )
        assert len(entries) == 1
        raw = entries[0][1][b"__data__"]
        payload = json.loads(raw[raw.index(b"{") :])
        assert payload["phone"] == "+6281234567890" and payload["purpose"] == "survey_reply"
        assert "Loket kedua" in payload["text"] and payload["reference"] == consented["id"]

        quiet = await client.post(
            f"/api/v1/tickets/{silent['id']}/reply", headers=auth(),
            json={"reply": "Terima kasih, kursi ditambah.", "close": True},
        )  # fmt: skip
        assert quiet.json()["status"] == "selesai" and not quiet.json()["reply_sent_by_whatsapp"]
        again = await client.post(
            f"/api/v1/tickets/{silent['id']}/reply", headers=auth(), json={"reply": "Lagi"}
        )
        assert again.status_code == 409
        assert len(await redis.xrange(WhatsAppMessageRequestedV1.STREAM)) == 1

        report = (await client.get("/api/v1/ikm", headers=auth())).json()
        saran = report["saran"]
        assert (saran["tickets"], saran["baru"], saran["ditanggapi"], saran["selesai"]) == (
            2, 0, 1, 1,
        )  # fmt: skip
        assert saran["median_hours_to_reply"] is not None
    await redis.aclose()


async def test_tickets_stay_within_their_kecamatan(settings: Settings) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        await submit(client, "a", suggestion="Antrean lama")
        ticket = (await client.get("/api/v1/tickets", headers=auth())).json()["items"][0]
        other = auth(issue_token(ADMIN_TOKEN, role="operator", tenant="lain", subject="x"))
        detail = await client.get(f"/api/v1/tickets/{ticket['id']}", headers=auth())
        assert detail.status_code == 200, detail.text
        assert detail.json()["suggestion"] == "Antrean lama" and detail.json()["status"] == "baru"
        assert "phone" not in detail.json() and not detail.json()["can_reply_by_whatsapp"]
        for path in (
            "/api/v1/tickets", f"/api/v1/tickets/{ticket['id']}",
            f"/api/v1/tickets/{ticket['id']}/close",
        ):  # fmt: skip
            method = client.post if path.endswith("close") else client.get
            assert (
                await method(path, params={"tenant": "mojosari"}, headers=other)
            ).status_code == 403
            assert (await method(path)).status_code == 401
        missing = await client.post(f"/api/v1/tickets/{uuid.uuid4()}/close", headers=auth())
        assert missing.status_code == 404
        unknown = await client.get(f"/api/v1/tickets/{uuid.uuid4()}", headers=auth())
        assert unknown.status_code == 404 and unknown.json()["message"] == "Tiket tidak ditemukan."
        short = await client.post(
            f"/api/v1/tickets/{ticket['id']}/reply", headers=auth(), json={"reply": 5}
        )
        assert short.status_code == 422
        tiny = await client.post(
            f"/api/v1/tickets/{ticket['id']}/reply", headers=auth(), json={"reply": "x"}
        )
        assert tiny.status_code == 422
        assert (
            tiny.json()["fields"][0]["message"] == "Tanggapan terlalu pendek (minimal 2 karakter)."
        )
