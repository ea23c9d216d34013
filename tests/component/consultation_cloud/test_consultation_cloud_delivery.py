"""Outbound over the Cloud API: the invitation ledger, the certificate link, errors, limits."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from redis.asyncio import Redis
from sqlalchemy import select

from services.consultation.app import MIGRATIONS, create_app
from services.consultation.models import OutboundMessage
from services.consultation.settings import Settings
from shared.contracts import CertificateIssuedV1, InvitationClickedV1, InvitationDeliveredV1
from shared.settings import PROJECT_ROOT
from tests.component.consultation_support import citizen_says, cloud_settings, received
from tests.factories import participant_registered, publish
from tests.fakes import cloud_api
from tests.fakes.cloud_api import FakeCloudApi
from tests.support import auth, running_app, wait_for

pytestmark = pytest.mark.integration
CLICK_RE = re.compile(r"https://konsultasi\.mojosari\.test/i/([A-Za-z0-9_-]+)")


async def invitation(client: Any, registration_id: uuid.UUID, status: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        response = await client.get(
            "/api/v1/invitations", headers=auth(), params={"registration_id": str(registration_id)}
        )
        found = response.json()
        return found[0] if found and found[0]["status"] == status else None

    return await wait_for(probe, timeout=60, what=f"the invitation to be {status}")


def certificate_issued(registration_id: uuid.UUID) -> CertificateIssuedV1:
    certificate_id = uuid.uuid4()
    return CertificateIssuedV1(
        tenant="mojosari",
        source="certificates",
        correlation_id=f"corr-{uuid.uuid4()}",
        certificate_id=certificate_id,
        registration_id=registration_id,
        number="0001/SERT-MENJAMU/MOJOSARI/2026",
        download_url=f"https://sertifikat.mojosari.test/api/v1/certificates/{certificate_id}/pdf",
        verify_url=f"https://sertifikat.mojosari.test/verify/{certificate_id}",
        brochure_url="https://sertifikat.mojosari.test/brosur.pdf",
    )


async def test_invitation_ledger_on_the_cloud_adapter_from_registration_to_click(
    settings: Settings, fake: FakeCloudApi, redis_client: Redis
) -> None:
    event = participant_registered()
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        await publish(redis_client, event)
        sent = await invitation(client, event.registration_id, "sent")
        [payload] = fake.sent_to(event.phone)
        # A new registrant never wrote: the approved template, with the tracked link.
        assert payload["type"] == "template"
        assert payload["template"]["name"] == "menjamu_undangan_grup"
        params = [p["text"] for p in payload["template"]["components"][0]["parameters"]]
        assert params[0] == "Ayu" and params[1] == event.activity_title
        token = CLICK_RE.fullmatch(params[2]).group(1)  # type: ignore[union-attr]
        assert sent["message"]["rule"] == "template"
        wamid = sent["message"]["provider_message_id"]
        assert wamid.startswith("wamid.")
        value = cloud_api.inbound_text_payload("628", "x", "w", 1)
        value["entry"][0]["changes"][0]["value"] = cloud_api.status_payload(wamid, "delivered")
        raw, headers = cloud_api.signed(value)
        assert (
            await client.post("/webhooks/whatsapp", content=raw, headers=headers)
        ).status_code == 200
        delivered = await invitation(client, event.registration_id, "sent")
        assert delivered["message"]["delivery_status"] == "delivered"
        click = await client.get(f"/i/{token}", follow_redirects=False)
        assert click.status_code == 307
        assert (await client.get(f"/i/{token}", follow_redirects=False)).status_code == 307
        clicked = await invitation(client, event.registration_id, "sent")
        assert clicked["clicked_at"] is not None

        async def announced() -> bool:
            kinds = [InvitationDeliveredV1.STREAM, InvitationClickedV1.STREAM]
            return all([await redis_client.xlen(k) == 1 for k in kinds])

        await wait_for(announced, timeout=60, what="delivered and clicked events, once each")


async def test_certificate_link_goes_as_a_template_outside_the_window_and_once(
    settings: Settings, fake: FakeCloudApi, redis_client: Redis
) -> None:
    registered = participant_registered()
    issued = certificate_issued(registered.registration_id)
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        await publish(redis_client, registered)
        await publish(redis_client, issued, times=2)
        [message] = await received(fake, registered.phone, "menjamu_sertifikat")
        params = [p["text"] for p in message["template"]["components"][0]["parameters"]]
        assert params == [issued.number, issued.download_url]
        await wait_for(lambda: _no_queued(client), what="the queue to empty")
        assert len([m for m in fake.sent_to(registered.phone) if "sertifikat" in str(m)]) == 1


async def _no_queued(client: Any) -> bool:
    app = client._transport.app  # the ASGI app behind the test client
    async with app.state.runtime.db.session() as session:
        rows = await session.scalars(
            select(OutboundMessage).where(OutboundMessage.status == "queued")
        )
        return not list(rows)


async def test_certificate_link_is_a_document_inside_the_window(
    settings: Settings, fake: FakeCloudApi, redis_client: Redis
) -> None:
    registered = participant_registered()
    issued = certificate_issued(registered.registration_id)
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        await publish(redis_client, registered)
        await received(fake, registered.phone, "menjamu_undangan_grup")
        await citizen_says(client, registered.phone, "halo kak")  # opens the 24-hour window
        await received(fake, registered.phone, "khusus konsultasi")
        await publish(redis_client, issued)
        [document] = await received(fake, registered.phone, issued.download_url)
        assert document["type"] == "document"
        assert document["document"]["link"] == issued.download_url
        assert issued.number in document["document"]["caption"]
        assert (
            "Brosur persyaratan Adminduk: https://sertifikat.mojosari.test/brosur.pdf"
            in (document["document"]["caption"])
        )


async def test_throttling_is_retried_and_an_undeliverable_number_is_not(
    settings: Settings, fake: FakeCloudApi, redis_client: Redis
) -> None:
    throttled, dead = participant_registered(), participant_registered()
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        fake.fail_next(429, 130429, "(#130429) Rate limit hit", times=2)
        await publish(redis_client, throttled)
        sent = await invitation(client, throttled.registration_id, "sent")
        assert sent["message"]["attempts"] == 3
        assert len(fake.sent_to(throttled.phone)) == 1
        fake.fail_next(400, 131026, "Message undeliverable")
        await publish(redis_client, dead)
        failed = await invitation(client, dead.registration_id, "failed")
        assert failed["message"]["attempts"] == 1
        assert "131026" in failed["message"]["last_error"]
    assert [status for status, _ in fake.refused] == [429, 429, 400]


async def test_invitations_waiting_for_a_group_are_sent_when_one_is_created(
    settings_for: Callable[..., Settings], fake: FakeCloudApi, redis_client: Redis, tmp_path: Any
) -> None:
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    data = yaml.safe_load((PROJECT_ROOT / "deploy" / "tenants" / "mojosari.yaml").read_text())
    data.pop("whatsapp_groups")
    (tenants / "mojosari.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    settings = cloud_settings(settings_for, fake, tenants_dir=tenants)
    event = participant_registered()
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        await publish(redis_client, event)
        await invitation(client, event.registration_id, "no_group")
        created = await client.post(
            "/api/v1/groups",
            headers=auth(),
            json={"name": "Grup Konsultasi", "invite_link": "https://chat.whatsapp.com/NEWGROUP"},
        )
        assert created.status_code == 201, created.text
        sent = await invitation(client, event.registration_id, "sent")
        assert sent["group_name"] == "Grup Konsultasi"
        [payload] = fake.sent_to(event.phone)
        assert payload["template"]["components"][0]["parameters"][0]["text"] == "Ayu"


async def test_sends_to_numbers_never_contacted_are_capped_per_hour(
    settings_for: Callable[..., Settings], fake: FakeCloudApi, redis_client: Redis
) -> None:
    settings = cloud_settings(settings_for, fake, new_recipients_per_hour=2)
    events = [participant_registered() for _ in range(3)]
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        for event in events:
            await publish(redis_client, event)

        async def statuses() -> list[str]:
            found = []
            for event in events:
                response = await client.get(
                    "/api/v1/invitations",
                    headers=auth(),
                    params={"registration_id": str(event.registration_id)},
                )
                found.append(response.json()[0]["status"] if response.json() else "none")
            return sorted(found)

        async def two_sent() -> bool:
            # The fake hears a send before the sender commits "sent": poll the recorded state.
            return await statuses() == ["queued", "sent", "sent"]

        await wait_for(two_sent, timeout=60, what="two invitations sent, the third held")
        await asyncio.sleep(2.5)  # a broken cap would send the third within a dispatch pass (1 s)
        assert await statuses() == ["queued", "sent", "sent"]
        assert len(fake.requests) == 2


async def test_a_certificate_issued_before_its_registration_arrives_is_sent_after_it(
    settings: Settings, fake: FakeCloudApi, redis_client: Redis
) -> None:
    registered = participant_registered()
    issued = certificate_issued(registered.registration_id)
    async with running_app(create_app, settings, MIGRATIONS) as (_app, _client):
        await publish(redis_client, issued)  # the registration is not known here yet: retried
        await publish(redis_client, registered)
        [message] = await received(fake, registered.phone, "menjamu_sertifikat")
        assert message["template"]["components"][0]["parameters"][1]["text"] == issued.download_url


async def test_a_full_send_window_holds_the_queue_only_until_a_permit_frees(
    settings_for: Callable[..., Settings], fake: FakeCloudApi, redis_client: Redis
) -> None:
    # One send per second, and a long dispatch interval: when the window is full the sender
    # waits for the next permit (about a second), not for the interval (20 s) on top of it.
    settings = cloud_settings(
        settings_for, fake, send_rate_per_minute=60, dispatch_interval_ms=20_000
    )
    events = [participant_registered() for _ in range(3)]
    async with running_app(create_app, settings, MIGRATIONS) as (_app, _client):
        for event in events:
            await publish(redis_client, event)
        await wait_for(lambda: _sent(fake, 3), timeout=15, what="three sends, a second apart")
    assert len(fake.requests) == 3


async def _sent(fake: FakeCloudApi, count: int) -> bool:
    return len(fake.requests) >= count
