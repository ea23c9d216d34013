"""Certificates as participants and operators meet them: the PDF, revocation, re-issue,
issuing on check-in, cancellation. A real database, the machine's Redis, real PDFs."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from services.certificates.app import MIGRATIONS, create_app
from services.certificates.handlers import CANCEL_GROUP, CHECK_IN_GROUP, ISSUE_GROUP
from services.certificates.settings import Settings
from shared.auth import issue_token
from shared.contracts import (
    CertificateIssuedV1,
    CertificateRevokedV1,
    ParticipantCancelledV1,
    ParticipantCheckedInV1,
    ParticipantRegisteredV1,
)
from tests.certificates_support import (
    cancelled,
    checked_in,
    events_on,
    group_idle,
    pdf_text,
    qr_codes,
)
from tests.factories import participant_registered, publish
from tests.support import ADMIN_TOKEN, auth, running_app, wait_for

pytestmark = pytest.mark.integration
PUBLIC_URL = "https://sertifikat.mojosari.example.id"


@pytest.fixture
def settings(settings_for: Callable[..., Settings]) -> Settings:
    return settings_for(Settings, public_url=PUBLIC_URL, render_workers=1)


async def certificate_of(client: httpx.AsyncClient, registration_id: uuid.UUID) -> dict[str, Any]:
    """Waits until the registration's certificate is issued (PDF made) and returns it."""

    async def probe() -> list[dict[str, Any]]:
        response = await client.get(
            "/api/v1/certificates", headers=auth(), params={"registration_id": str(registration_id)}
        )
        assert response.status_code == 200, response.text
        body: list[dict[str, Any]] = response.json()
        return body

    listed = await wait_for(probe, what="the certificate in the list")
    return listed[0]


async def idle(redis: Redis, stream: str, group: str) -> None:
    await wait_for(lambda: group_idle(redis, stream, group), what=f"{group} idle")


async def test_pdf_prints_name_and_number_and_its_qr_code_opens_the_verification_page(
    settings: Settings, redis_client: Redis, tmp_path: Path
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        event = participant_registered(name="Ayu Lestari Wulandari")
        await publish(redis_client, event)
        cert = await certificate_of(client, event.registration_id)
        pdf = (await client.get(f"/api/v1/certificates/{cert['id']}/pdf")).content

    text = pdf_text(pdf, tmp_path)
    assert "Ayu Lestari Wulandari" in text
    assert cert["number"] in text
    assert qr_codes(pdf, tmp_path) == [f"{PUBLIC_URL}/verify/{cert['id']}"]
    # The database keeps the key; the bytes are a file under the data folder.
    stored = list((settings.data_dir / "certificates").rglob("*.pdf"))
    assert [p.read_bytes() for p in stored] == [pdf]


async def test_revocation_is_announced_and_verification_says_when_and_why(
    settings: Settings, redis_client: Redis
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        event = participant_registered()
        await publish(redis_client, event)
        cert = await certificate_of(client, event.registration_id)
        operator = issue_token(ADMIN_TOKEN, role="operator", tenant="mojosari", subject="op1")
        revoked = await client.post(
            f"/api/v1/certificates/{cert['id']}/revoke",
            json={"reason": "Data peserta keliru"},
            headers=auth(operator),
        )
        assert revoked.status_code == 200, revoked.text

        announced = await wait_for(
            lambda: events_on(redis_client, CertificateRevokedV1), what="CertificateRevokedV1"
        )
        assert [(e.certificate_id, e.number, e.reason) for e in announced] == [
            (uuid.UUID(cert["id"]), cert["number"], "Data peserta keliru")
        ]
        assert announced[0].correlation_id == event.correlation_id
        machine = (await client.get(f"/api/v1/certificates/{cert['id']}/verification")).json()
        assert (machine["status"], machine["valid"]) == ("revoked", False)
        assert machine["revoke_reason"] == "Data peserta keliru"
        assert machine["revoked_at"] == revoked.json()["revoked_at"]
        page = await client.get(f"/verify/{cert['id']}")
        assert "DICABUT" in page.text and "Data peserta keliru" in page.text
        assert (await client.get(f"/api/v1/certificates/{cert['id']}/pdf")).status_code == 410


async def test_reissue_of_an_event_keeps_numbers_and_links_and_shows_the_reissue_date(
    settings: Settings, redis_client: Redis, tmp_path: Path
) -> None:
    activity = uuid.uuid4()
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        events = [
            participant_registered(activity_id=activity, activity_title="Sosialsasi Adminduk"),
            participant_registered(activity_id=activity, activity_title="Sosialsasi Adminduk"),
        ]
        for event in events:
            await publish(redis_client, event)
        before = [await certificate_of(client, e.registration_id) for e in events]
        url = f"/api/v1/events/{activity}/certificates/reissue"
        title = {"activity_title": "Sosialisasi Adminduk"}
        stranger = issue_token(ADMIN_TOKEN, role="operator", tenant="kecamatan-lain", subject="x")
        assert (await client.post(url, json=title, headers=auth(stranger))).status_code in (
            403,
            422,
        )
        assert (await client.post(url, json=title)).status_code == 401
        started = await client.post(url, json=title, headers=auth())
        assert started.status_code == 202, started.text
        assert started.json()["total"] == 2

        async def finished() -> bool:
            progress = await client.get(
                f"/api/v1/events/{activity}/certificates/progress", headers=auth()
            )
            body = progress.json()
            return bool(body["waiting"] == 0 and body["done"] == 2)

        await wait_for(finished, what="the re-issue finished")
        after = [await certificate_of(client, e.registration_id) for e in events]
        for old, new in zip(before, after, strict=True):
            for key in ("id", "number", "download_url", "verify_url"):
                assert new[key] == old[key]
            assert new["reissued_at"] is not None
            pdf = (await client.get(new["download_url"].removeprefix(PUBLIC_URL))).content
            assert "Sosialisasi Adminduk" in pdf_text(pdf, tmp_path)
            page = await client.get(f"/verify/{new['id']}")
            assert "Diterbitkan ulang" in page.text and "Sosialisasi Adminduk" in page.text
        # Re-issuing announces nothing new: participants already have their links.
        assert len(await events_on(redis_client, CertificateIssuedV1)) == 2
        missing = await client.post(
            f"/api/v1/events/{uuid.uuid4()}/certificates/reissue", json={}, headers=auth()
        )
        assert missing.status_code == 404


async def test_renders_finished_together_give_each_participant_their_own_pdf_and_one_announcement(
    settings_for: Callable[..., Settings], redis_client: Redis, tmp_path: Path
) -> None:
    """Renders that end close together share one finish transaction (keys, announcements):
    each certificate still gets its own file and exactly one CertificateIssuedV1."""
    settings = settings_for(
        Settings, public_url=PUBLIC_URL, render_workers=1, finish_batch=4, finish_linger_ms=1000
    )
    activity = uuid.uuid4()
    events = [
        participant_registered(activity_id=activity, name=f"Peserta Serentak {chr(65 + i)}")
        for i in range(4)
    ]
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        for event in events:
            await publish(redis_client, event)
        certificates = [await certificate_of(client, e.registration_id) for e in events]
        for event, cert in zip(events, certificates, strict=True):
            pdf = (await client.get(cert["download_url"].removeprefix(PUBLIC_URL))).content
            text = pdf_text(pdf, tmp_path)
            assert event.name in text and cert["number"] in text
            assert all(other.name not in text for other in events if other is not event)
        announced = await wait_for(
            lambda: events_on(redis_client, CertificateIssuedV1), what="CertificateIssuedV1"
        )
        assert sorted((e.registration_id, e.number) for e in announced) == sorted(
            (e.registration_id, c["number"]) for e, c in zip(events, certificates, strict=True)
        )
        # A re-issue of the event: the renders ending within the linger share one transaction,
        # so they share its date.
        url = f"/api/v1/events/{activity}/certificates/reissue"
        assert (await client.post(url, json={}, headers=auth())).status_code == 202

        async def reissued() -> list[dict[str, Any]] | None:
            found = [await certificate_of(client, e.registration_id) for e in events]
            return found if all(c["reissued_at"] for c in found) else None

        dates = {c["reissued_at"] for c in await wait_for(reissued, what="the re-issue")}
        assert len(dates) < len(events)
        assert len(await events_on(redis_client, CertificateIssuedV1)) == len(events)


async def test_an_event_that_issues_on_check_in_waits_for_the_check_in(
    settings: Settings, redis_client: Redis
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        waiting = participant_registered(certificate_policy="on_check_in")
        early = participant_registered(certificate_policy="on_check_in")
        await publish(redis_client, checked_in(early.registration_id, early.activity_id))
        await publish(redis_client, waiting)
        await publish(redis_client, early)
        await idle(redis_client, ParticipantRegisteredV1.STREAM, ISSUE_GROUP)
        await idle(redis_client, ParticipantCheckedInV1.STREAM, CHECK_IN_GROUP)
        # The check-in that arrived before its registration counts once the registration does.
        await certificate_of(client, early.registration_id)
        listed = await client.get(
            "/api/v1/certificates",
            headers=auth(),
            params={"registration_id": str(waiting.registration_id)},
        )
        assert listed.json() == []

        await publish(redis_client, checked_in(waiting.registration_id, waiting.activity_id))
        cert = await certificate_of(client, waiting.registration_id)
        assert cert["number"].startswith("0002/")


async def test_a_cancelled_registration_gets_no_certificate_and_an_issued_one_is_revoked(
    settings: Settings, redis_client: Redis
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        issued = participant_registered()
        await publish(redis_client, issued)
        cert = await certificate_of(client, issued.registration_id)
        never = participant_registered(certificate_policy="on_check_in")
        await publish(redis_client, never)
        await publish(redis_client, cancelled(never.registration_id, never.activity_id))
        await publish(redis_client, cancelled(issued.registration_id, issued.activity_id))
        await idle(redis_client, ParticipantCancelledV1.STREAM, CANCEL_GROUP)
        await publish(redis_client, checked_in(never.registration_id, never.activity_id))
        await idle(redis_client, ParticipantCheckedInV1.STREAM, CHECK_IN_GROUP)

        await idle(redis_client, ParticipantRegisteredV1.STREAM, ISSUE_GROUP)
        # The revocation is announced through the outbox: wait for the relay, not the handler.
        revoked = await wait_for(
            lambda: events_on(redis_client, CertificateRevokedV1), what="CertificateRevokedV1"
        )
        assert [e.certificate_id for e in revoked] == [uuid.UUID(cert["id"])]
        machine = (await client.get(f"/api/v1/certificates/{cert['id']}/verification")).json()
        assert machine["status"] == "revoked"
        assert machine["revoke_reason"] == "Pendaftaran dibatalkan."
        none = await client.get(
            "/api/v1/certificates",
            headers=auth(),
            params={"registration_id": str(never.registration_id)},
        )
        assert none.json() == []


async def test_a_restarted_replica_takes_back_at_once_the_rows_it_had_in_hand(
    settings_for: Callable[..., Settings], redis_client: Redis
) -> None:
    """A replica that died mid-render and restarts under its stable name does not wait for
    its own leases to run out; a row leased by another live replica is left alone."""
    import asyncio
    from datetime import date, timedelta

    from services.certificates.models import Certificate
    from shared.contracts import utcnow
    from shared.db import Database
    from shared.migrations import upgrade

    settings = settings_for(Settings, render_workers=1, consumer_name="replica-a")
    await asyncio.to_thread(upgrade, settings, MIGRATIONS)
    far = utcnow() + timedelta(hours=1)
    rows = {"replica-a-render": uuid.uuid4(), "replica-b-render": uuid.uuid4()}
    db = Database(settings)
    try:
        async with db.session() as session:
            for number, (owner, certificate_id) in enumerate(rows.items(), start=1):
                session.add(
                    Certificate(
                        id=certificate_id, tenant="mojosari", registration_id=uuid.uuid4(),
                        activity_id=uuid.uuid4(), number=f"{number:04d}/SERT-MENJAMU/MOJOSARI/2026",
                        participant_name="Ayu", school="SMAN 1", level="SMA",
                        activity_title="Sosialisasi", activity_date=date(2026, 12, 5),
                        activity_location="Pendopo", needs_render=True, generation=1,
                        render_attempts=1, render_owner=owner, render_lease_until=far,
                        status="valid", issued_at=utcnow(), correlation_id="corr-restart",
                    )
                )  # fmt: skip
    finally:
        await db.dispose()
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):

        async def pdf_of(certificate_id: uuid.UUID) -> int:
            return (await client.get(f"/api/v1/certificates/{certificate_id}/pdf")).status_code

        await wait_for(
            lambda: _equals(pdf_of(rows["replica-a-render"]), 200), what="its own row finished"
        )
        assert await pdf_of(rows["replica-b-render"]) == 409  # still another replica's


async def _equals(value: Any, expected: Any) -> bool:
    return bool(await value == expected)
