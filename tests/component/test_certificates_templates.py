"""A kecamatan's own certificate template: refused by name at upload, previewed, then used."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from services.certificates.app import MIGRATIONS, create_app
from services.certificates.settings import Settings
from shared.auth import issue_token
from tests.certificates_support import pdf_text, qr_codes
from tests.factories import participant_registered, publish
from tests.support import ADMIN_TOKEN, auth, running_app, wait_for

pytestmark = pytest.mark.integration
PUBLIC_URL = "https://sertifikat.mojosari.example.id"
TEMPLATE = """<html><body>
{% if logo %}<img src="{{ logo }}" style="height:20mm">{% endif %}
<h1>PIAGAM KUSTOM MOJOSARI</h1>
<p>{{ c.participant_name }}</p><p>{{ c.number }}</p>
<div style="width:40mm">{{ qr_svg }}</div>
</body></html>"""
# A 1x1 PNG: enough to prove a logo is accepted and embedded.
LOGO = (
    "data:image/png;base64,"
    + base64.b64encode(
        bytes.fromhex(
            "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
            "1f15c4890000000d49444154789c6360f8cf0000000301010018dd8db40000000049454e44ae426082"
        )
    ).decode()
)


@pytest.fixture
def settings(settings_for: Callable[..., Settings]) -> Settings:
    return settings_for(Settings, public_url=PUBLIC_URL, render_workers=1)


async def test_a_template_with_an_unknown_placeholder_is_refused_at_upload_by_name(
    settings: Settings,
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        bad = {"html": "<p>{{ c.nama_lengkap }} {{ tanggal_cetak }}</p>"}
        refused = await client.put("/api/v1/certificates/template", json=bad, headers=auth())
        assert refused.status_code == 422
        body = refused.json()
        assert "c.nama_lengkap" in body["message"] and "tanggal_cetak" in body["message"]
        assert body["fields"][0]["field"] == "html"
        current = await client.get("/api/v1/certificates/template", headers=auth())
        assert current.json()["origin"] == "bawaan"
        stranger = issue_token(ADMIN_TOKEN, role="operator", tenant="kecamatan-lain", subject="x")
        forbidden = await client.put(
            "/api/v1/certificates/template",
            params={"tenant": "mojosari"},
            json={"html": TEMPLATE},
            headers=auth(stranger),
        )
        assert forbidden.status_code in (403, 422)
        assert (await client.get("/api/v1/certificates/preview")).status_code == 401


async def test_an_uploaded_template_is_previewed_then_used_for_new_certificates(
    settings: Settings, redis_client: Redis, tmp_path: Path
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        bundled = await client.get("/api/v1/certificates/preview?template=bawaan", headers=auth())
        assert bundled.status_code == 200
        assert "SERTIFIKAT" in pdf_text(bundled.content, tmp_path)

        uploaded = await client.put(
            "/api/v1/certificates/template", json={"html": TEMPLATE, "logo": LOGO}, headers=auth()
        )
        assert uploaded.status_code == 200, uploaded.text
        assert (uploaded.json()["origin"], uploaded.json()["has_logo"]) == ("kecamatan", True)
        preview = await client.get("/api/v1/certificates/preview", headers=auth())
        text = pdf_text(preview.content, tmp_path)
        assert "PIAGAM KUSTOM MOJOSARI" in text and "Ayu Lestari Wulandari" in text

        event = participant_registered(name="Dewi Kartika")

        async def issued() -> list[dict[str, Any]]:
            response = await client.get(
                "/api/v1/certificates",
                headers=auth(),
                params={"registration_id": str(event.registration_id)},
            )
            body: list[dict[str, Any]] = response.json()
            return body

        await publish(redis_client, event)
        cert = (await wait_for(issued, what="the certificate"))[0]
        pdf = (await client.get(f"/api/v1/certificates/{cert['id']}/pdf")).content
        text = pdf_text(pdf, tmp_path)
        assert "PIAGAM KUSTOM MOJOSARI" in text and "Dewi Kartika" in text
        assert cert["number"] in text
        assert qr_codes(pdf, tmp_path) == [f"{PUBLIC_URL}/verify/{cert['id']}"]

        assert (
            await client.delete("/api/v1/certificates/template", headers=auth())
        ).status_code == 204
        current = await client.get("/api/v1/certificates/template", headers=auth())
        assert current.json()["origin"] == "bawaan"
        draft = await client.post(
            "/api/v1/certificates/preview", json={"html": "{{ c.umur }}"}, headers=auth()
        )
        assert draft.status_code == 422 and "c.umur" in draft.json()["message"]
        assert uuid.UUID(cert["id"])
