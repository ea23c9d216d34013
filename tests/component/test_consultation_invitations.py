"""Consultation service: WhatsApp group invitations from a registration to a recorded click."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from faststream.redis.parser import BinaryMessageFormatV1
from redis.asyncio import Redis

from services.consultation import repository
from services.consultation.app import MIGRATIONS, create_app
from services.consultation.gateway import GatewayError, Outgoing, SendResult, WhatsAppGateway
from services.consultation.models import DevMessage
from services.consultation.settings import Settings
from shared.contracts import InvitationSentV1, ParticipantRegisteredV1
from tests.factories import participant_registered, publish
from tests.support import auth, make_settings, running_app, wait_for

pytestmark = pytest.mark.integration

PUBLIC_URL = "https://konsultasi.mojosari.test"
SEEDED_LINK = "https://chat.whatsapp.com/MENJAMU-DEV-MOJOSARI"
TOKEN_RE = re.compile(re.escape(PUBLIC_URL) + r"/i/([A-Za-z0-9_-]+)")


@pytest.fixture
def settings(settings_for: Callable[..., Settings]) -> Settings:
    return settings_for(
        Settings,
        public_url=PUBLIC_URL,
        send_backoff_base_s=0.05,
        send_backoff_max_s=0.2,
        dispatch_interval_ms=50,
    )


async def invitations(client: Any, registration_id: uuid.UUID) -> list[dict[str, Any]]:
    response = await client.get(
        "/api/v1/invitations", headers=auth(), params={"registration_id": str(registration_id)}
    )
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()
    return result


async def wait_sent(client: Any, registration_id: uuid.UUID) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        found = await invitations(client, registration_id)
        return found[0] if found and found[0]["status"] == "sent" else None

    return await wait_for(probe, what="the invitation to be sent")


async def wait_all_handled(redis_client: Redis) -> None:
    """Waits until consultation.invite has read and acknowledged every entry of the stream."""

    async def probe() -> bool:
        for group in await redis_client.xinfo_groups(ParticipantRegisteredV1.STREAM):
            if group["name"] in (b"consultation.invite", "consultation.invite"):
                return bool(group["lag"] == 0 and group["pending"] == 0)
        return False

    await wait_for(probe, what="every event handled by consultation.invite")


async def dev_messages(app: Any, to: str) -> list[DevMessage]:
    async with app.state.runtime.db.session() as session:
        return [m for m in await repository.list_dev_messages(session) if m.to == to]


async def sent_events(redis_client: Redis, registration_id: uuid.UUID) -> list[InvitationSentV1]:
    events = []
    for _id, fields in await redis_client.xrange(InvitationSentV1.STREAM):
        body, _headers = BinaryMessageFormatV1.parse(fields[b"__data__"])
        event = InvitationSentV1.model_validate_json(body)
        if event.registration_id == registration_id:
            events.append(event)
    return events


async def test_registered_participant_gets_one_whatsapp_invitation_with_a_tracked_link(
    settings: Settings, redis_client: Redis
) -> None:
    event = participant_registered()
    async with running_app(create_app, settings, MIGRATIONS) as (app, client):
        await publish(redis_client, event)
        invitation = await wait_sent(client, event.registration_id)
        assert invitation["group_name"] == "Konsultasi Adminduk SI GEN-Z MENJAMU Mojosari"
        assert invitation["message"]["status"] == "sent"
        assert invitation["message"]["attempts"] == 1
        recorded = await dev_messages(app, event.phone)
        assert len(recorded) == 1
        assert recorded[0].to == event.phone
        assert TOKEN_RE.search(recorded[0].body)
        assert SEEDED_LINK not in recorded[0].body
        assert recorded[0].body.startswith("Halo Ayu,")
        assert "- Dilarang SARA, hoaks dan pornografi" in recorded[0].body
        assert invitation["message"]["provider_message_id"] == recorded[0].provider_message_id

        announced = await wait_for(
            lambda: sent_events(redis_client, event.registration_id), what="InvitationSentV1"
        )
        assert len(announced) == 1
        assert announced[0].correlation_id == event.correlation_id
        assert announced[0].causation_id == str(event.event_id)
        assert announced[0].registration_id == event.registration_id
        assert str(announced[0].invitation_id) == invitation["id"]
        assert announced[0].gateway == "dev"

        page = await client.get("/dev/whatsapp")
        assert page.status_code == 200
        assert "Pesan WhatsApp (mode pengembangan)" in page.text
        assert f"+6281****{event.phone[-2:]}" in page.text
        assert event.phone not in page.text


async def test_second_delivery_of_the_same_registration_sends_one_invitation(
    settings: Settings, redis_client: Redis
) -> None:
    event = participant_registered()
    async with running_app(create_app, settings, MIGRATIONS) as (app, client):
        await publish(redis_client, event)
        await publish(redis_client, event)
        # A copy with a new event id (e.g. a replay by hand) is still the same registration.
        await publish(redis_client, event.model_copy(update={"event_id": uuid.uuid4()}))
        await wait_sent(client, event.registration_id)
        await wait_all_handled(redis_client)
        assert len(await invitations(client, event.registration_id)) == 1
        assert len(await dev_messages(app, event.phone)) == 1
        await wait_for(
            lambda: sent_events(redis_client, event.registration_id), what="InvitationSentV1"
        )
        assert len(await sent_events(redis_client, event.registration_id)) == 1


async def test_participant_without_consent_gets_no_invitation(
    settings: Settings, redis_client: Redis
) -> None:
    refused = participant_registered(consent=False)
    agreed = participant_registered()
    async with running_app(create_app, settings, MIGRATIONS) as (app, client):
        await publish(redis_client, refused)
        await publish(redis_client, agreed)
        await wait_sent(client, agreed.registration_id)
        await wait_all_handled(redis_client)
        assert await invitations(client, refused.registration_id) == []
        assert await dev_messages(app, refused.phone) == []
        assert len(await dev_messages(app, agreed.phone)) == 1


async def test_invitation_link_opens_the_group_and_records_the_first_click(
    settings: Settings, redis_client: Redis
) -> None:
    event = participant_registered()
    async with running_app(create_app, settings, MIGRATIONS) as (app, client):
        await publish(redis_client, event)
        invitation = await wait_sent(client, event.registration_id)
        assert invitation["clicked_at"] is None
        match = TOKEN_RE.search((await dev_messages(app, event.phone))[0].body)
        assert match is not None
        token = match.group(1)

        preview = await client.get(f"/i/{token}", headers={"User-Agent": "WhatsApp/2.24.1 A"})
        assert preview.status_code == 307
        assert (await invitations(client, event.registration_id))[0]["clicked_at"] is None

        opened = await client.get(f"/i/{token}")
        assert opened.status_code == 307
        assert opened.headers["location"] == SEEDED_LINK
        first_click = (await invitations(client, event.registration_id))[0]["clicked_at"]
        assert first_click is not None

        rotated = await client.post(
            f"/api/v1/groups/{invitation['group_id']}/rotate",
            headers=auth(),
            json={"invite_link": "https://chat.whatsapp.com/BARU123"},
        )
        assert rotated.status_code == 200, rotated.text
        assert "tautan grup yang baru" in rotated.json()["message"]
        again = await client.get(f"/i/{token}")
        assert again.status_code == 307
        assert again.headers["location"] == "https://chat.whatsapp.com/BARU123"
        assert (await invitations(client, event.registration_id))[0]["clicked_at"] == first_click

        unknown = await client.get("/i/tidak-ada")
        assert unknown.status_code == 404
        assert "Tautan undangan tidak ditemukan" in unknown.text


class FlakyGateway:
    """Fails the first `failures` sends as a provider outage would, then delegates."""

    def __init__(self, inner: WhatsAppGateway, failures: int) -> None:
        self.inner = inner
        self.name = inner.name
        self.sender_id = inner.sender_id
        self.failures = failures
        self.calls = 0

    async def send(self, message: Outgoing, *, idempotency_key: str) -> SendResult:
        self.calls += 1
        if self.calls <= self.failures:
            raise GatewayError("503 Service Unavailable", retryable=True)
        return await self.inner.send(message, idempotency_key=idempotency_key)

    async def close(self) -> None:
        await self.inner.close()


async def test_message_survives_two_gateway_failures_and_is_sent_once(
    settings: Settings, redis_client: Redis
) -> None:
    event = participant_registered()
    async with running_app(create_app, settings, MIGRATIONS) as (app, client):
        dispatcher = app.state.consultation.dispatcher
        flaky = FlakyGateway(dispatcher.gateway, failures=2)
        dispatcher.gateway = flaky
        await publish(redis_client, event)
        invitation = await wait_sent(client, event.registration_id)
        assert invitation["message"]["attempts"] == 3
        assert invitation["message"]["last_error"] is None
        assert flaky.calls == 3
        assert len(await dev_messages(app, event.phone)) == 1
        await wait_for(
            lambda: sent_events(redis_client, event.registration_id), what="InvitationSentV1"
        )
        assert len(await sent_events(redis_client, event.registration_id)) == 1


async def test_message_fails_for_good_after_the_last_attempt(
    tmp_path: Path, redis_url: str, redis_client: Redis
) -> None:
    settings = make_settings(
        Settings,
        data_dir=tmp_path,
        redis_url=redis_url,
        database_url=None,
        send_backoff_base_s=0.02,
        send_backoff_max_s=0.05,
        dispatch_interval_ms=50,
        send_max_attempts=3,
    )
    event = participant_registered()
    async with running_app(create_app, settings, MIGRATIONS) as (app, client):
        dispatcher = app.state.consultation.dispatcher
        dispatcher.gateway = FlakyGateway(dispatcher.gateway, failures=100)
        await publish(redis_client, event)

        async def failed() -> dict[str, Any] | None:
            found = await invitations(client, event.registration_id)
            return found[0] if found and found[0]["status"] == "failed" else None

        invitation = await wait_for(failed, what="the invitation to fail")
        assert invitation["message"]["status"] == "failed"
        assert invitation["message"]["attempts"] == 3
        assert "503" in invitation["message"]["last_error"]
        assert await dev_messages(app, event.phone) == []
        assert await sent_events(redis_client, event.registration_id) == []


async def test_group_link_must_be_a_whatsapp_invite_link(settings: Settings) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        bad = await client.post(
            "/api/v1/groups",
            headers=auth(),
            json={"name": "Grup Mentor 2", "invite_link": "https://wa.me/62812"},
        )
        assert bad.status_code == 422
        field = bad.json()["fields"][0]
        assert field["field"] == "invite_link"
        assert "harus diawali https://chat.whatsapp.com/" in field["message"]
        good = await client.post(
            "/api/v1/groups",
            headers=auth(),
            json={"name": "Grup Mentor 2", "invite_link": "https://chat.whatsapp.com/KEDUA"},
        )
        assert good.status_code == 201, good.text
        listed = (await client.get("/api/v1/groups", headers=auth())).json()
        assert {g["invite_link"] for g in listed} == {
            SEEDED_LINK,
            "https://chat.whatsapp.com/KEDUA",
        }
        anonymous = await client.get("/api/v1/groups")
        assert anonymous.status_code == 401


async def test_tenant_file_groups_are_seeded_once_and_a_rotation_survives_restarts(
    settings: Settings,
) -> None:
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        groups = (await client.get("/api/v1/groups", headers=auth())).json()
        assert [g["invite_link"] for g in groups] == [SEEDED_LINK]
        rotated = await client.post(
            f"/api/v1/groups/{groups[0]['id']}/rotate",
            headers=auth(),
            json={"invite_link": "https://chat.whatsapp.com/ROTASI"},
        )
        assert rotated.status_code == 200
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        groups = (await client.get("/api/v1/groups", headers=auth())).json()
        assert [g["invite_link"] for g in groups] == ["https://chat.whatsapp.com/ROTASI"]


async def test_without_any_group_the_invitation_is_recorded_as_no_group(
    settings: Settings, redis_client: Redis, tmp_path: Path
) -> None:
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    (tenants / "mojosari.yaml").write_text(
        "tenant:\n  code: mojosari\n  name: Kecamatan Mojosari\n  camat: Camat Uji\n"
        "participant_levels: [SMA]\n",
        encoding="utf-8",
    )
    settings = settings.model_copy(update={"tenants_dir": tenants})
    early, later = participant_registered(), participant_registered()
    async with running_app(create_app, settings, MIGRATIONS) as (app, client):
        assert (await client.get("/api/v1/groups", headers=auth())).json() == []
        await publish(redis_client, early)

        async def recorded() -> list[dict[str, Any]]:
            return await invitations(client, early.registration_id)

        waiting = (await wait_for(recorded, what="the invitation"))[0]
        assert waiting["status"] == "no_group"
        assert waiting["message"] is None
        assert await dev_messages(app, early.phone) == []

        created = await client.post(
            "/api/v1/groups",
            headers=auth(),
            json={"name": "Grup Mentor Baru", "invite_link": "https://chat.whatsapp.com/BARU"},
        )
        assert created.status_code == 201, created.text
        await publish(redis_client, later)
        sent = await wait_sent(client, later.registration_id)
        assert sent["group_id"] == created.json()["id"]
