"""Certificates service against a real database and the machine's Redis streams."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from faststream.redis.parser import BinaryMessageFormatV1
from redis.asyncio import Redis

from services.certificates.app import MIGRATIONS, create_app
from services.certificates.handlers import ISSUE_GROUP
from services.certificates.settings import Settings
from shared.auth import issue_token
from shared.contracts import CertificateIssuedV1, ParticipantRegisteredV1
from shared.streams import group_stats
from tests.factories import participant_registered, publish
from tests.support import ADMIN_TOKEN, auth, running_app, wait_for

pytestmark = pytest.mark.integration
PUBLIC_URL = "https://sertifikat.mojosari.example.id"


@pytest.fixture
def settings(settings_for: Callable[..., Settings]) -> Settings:
    return settings_for(Settings, public_url=PUBLIC_URL, render_workers=1)


async def certificate_of(client: httpx.AsyncClient, registration_id: uuid.UUID) -> dict[str, Any]:
    """Waits until the registration's certificate is listed and returns it."""

    async def probe() -> list[dict[str, Any]]:
        response = await client.get(
            "/api/v1/certificates", headers=auth(), params={"registration_id": str(registration_id)}
        )
        assert response.status_code == 200, response.text
        body: list[dict[str, Any]] = response.json()
        return body

    listed = await wait_for(probe, what="the certificate in the list")
    assert len(listed) == 1
    return listed[0]


async def issued_events(redis_client: Redis) -> list[CertificateIssuedV1]:
    entries = await redis_client.xrange(CertificateIssuedV1.STREAM)
    return [
        CertificateIssuedV1.model_validate_json(BinaryMessageFormatV1.parse(f[b"__data__"])[0])
        for _id, f in entries
    ]


def this_year() -> int:
    return datetime.now(ZoneInfo("Asia/Jakarta")).year


async def test_registration_on_the_stream_gives_a_downloadable_certificate_and_announces_it(
    settings: Settings, redis_client: Redis
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        event = participant_registered()
        await publish(redis_client, event)
        cert = await certificate_of(client, event.registration_id)
        assert cert["status"] == "valid"
        assert cert["number"] == f"0001/SERT-MENJAMU/MOJOSARI/{this_year()}"
        assert cert["download_url"] == f"{PUBLIC_URL}/api/v1/certificates/{cert['id']}/pdf"
        assert cert["verify_url"] == f"{PUBLIC_URL}/verify/{cert['id']}"

        pdf = await client.get(f"/api/v1/certificates/{cert['id']}/pdf")
        assert pdf.status_code == 200
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")
        assert pdf.headers["content-disposition"] == (
            f'attachment; filename="sertifikat-0001-SERT-MENJAMU-MOJOSARI-{this_year()}.pdf"'
        )

        announced = await wait_for(lambda: issued_events(redis_client), what="CertificateIssuedV1")
        assert len(announced) == 1
        issued = announced[0]
        assert issued.causation_id == str(event.event_id)
        assert issued.correlation_id == event.correlation_id
        assert (issued.certificate_id, issued.number) == (uuid.UUID(cert["id"]), cert["number"])
        assert issued.download_url == cert["download_url"]
        assert issued.verify_url == cert["verify_url"]
        assert issued.brochure_url == f"{PUBLIC_URL}/brosur.pdf"


async def test_second_delivery_of_the_same_event_renders_one_certificate(
    settings: Settings, redis_client: Redis
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        event = participant_registered()
        await publish(redis_client, event)
        await publish(redis_client, event)
        # A producer re-announcing the same registration under a new event id: natural key.
        await publish(redis_client, participant_registered(registration_id=event.registration_id))

        async def all_handled() -> bool:
            stats = await group_stats(redis_client, ParticipantRegisteredV1.STREAM, ISSUE_GROUP)
            return bool(stats["exists"] and stats["pending"] == 0 and stats["lag"] == 0)

        await wait_for(all_handled, what="the three deliveries acknowledged")
        await certificate_of(client, event.registration_id)
        announced = await wait_for(lambda: issued_events(redis_client), what="CertificateIssuedV1")
        assert len(announced) == 1
        listed = await client.get("/api/v1/certificates", headers=auth())
        assert len(listed.json()) == 1


async def test_certificates_of_a_kecamatan_are_numbered_in_sequence(
    settings: Settings, redis_client: Redis
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        first, second = (
            participant_registered(),
            participant_registered(name="Bima Sakti", phone="+6281299998888"),
        )
        await publish(redis_client, first)
        await publish(redis_client, second)
        numbers = [
            (await certificate_of(client, e.registration_id))["number"] for e in (first, second)
        ]
        year = this_year()
        assert numbers == [
            f"0001/SERT-MENJAMU/MOJOSARI/{year}",
            f"0002/SERT-MENJAMU/MOJOSARI/{year}",
        ]


async def test_verify_page_shows_a_genuine_certificate_until_an_operator_revokes_it(
    settings: Settings, redis_client: Redis
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        assert (await client.get("/api/v1/certificates")).status_code == 401
        event = participant_registered()
        await publish(redis_client, event)
        cert = await certificate_of(client, event.registration_id)
        page = await client.get(f"/verify/{cert['id']}")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert cert["number"] in page.text
        assert "ASLI" in page.text and "valid" in page.text
        assert "Ayu Lestari" in page.text and "Kecamatan Mojosari" in page.text

        revoke_url = f"/api/v1/certificates/{cert['id']}/revoke"
        reason = {"reason": "Peserta tidak hadir <b>sama sekali</b>"}
        assert (await client.post(revoke_url, json=reason)).status_code == 401
        stranger = issue_token(
            ADMIN_TOKEN, role="operator", tenant="kecamatan-lain", subject="op@lain"
        )
        assert (
            await client.post(revoke_url, json=reason, headers=auth(stranger))
        ).status_code == 403
        operator = issue_token(ADMIN_TOKEN, role="operator", tenant="mojosari", subject="op1")
        revoked = await client.post(revoke_url, json=reason, headers=auth(operator))
        assert revoked.status_code == 200, revoked.text
        assert revoked.json()["status"] == "revoked"

        page = await client.get(f"/verify/{cert['id']}")
        assert "DICABUT" in page.text
        assert "Peserta tidak hadir &lt;b&gt;sama sekali&lt;/b&gt;" in page.text
        gone = await client.get(f"/api/v1/certificates/{cert['id']}/pdf")
        assert gone.status_code == 410
        assert "dicabut" in gone.json()["message"]
        machine = (await client.get(f"/api/v1/certificates/{cert['id']}/verification")).json()
        assert (machine["status"], machine["valid"]) == ("revoked", False)

        unknown = await client.get(f"/verify/{uuid.uuid4()}")
        assert unknown.status_code == 404
        assert "Sertifikat tidak ditemukan" in unknown.text
