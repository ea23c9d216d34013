"""A moved event reaches its consenting registrants on WhatsApp, once (ActivityChangedV1)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import select

from services.consultation.app import MIGRATIONS, create_app
from services.consultation.models import OutboundMessage
from services.consultation.settings import Settings
from shared.contracts import ActivityChangedV1, ParticipantRegisteredV1
from tests.component.consultation_support import received, text_of
from tests.factories import participant_registered, publish
from tests.fakes.cloud_api import FakeCloudApi
from tests.support import running_app, wait_for

pytestmark = pytest.mark.integration
NOTICE = "menjamu_pemberitahuan"
GROUP = "consultation.activity_changed"


def activity_changed(
    first: ParticipantRegisteredV1, registration_ids: list[uuid.UUID], changed: list[str]
) -> ActivityChangedV1:
    return ActivityChangedV1(
        tenant="mojosari",
        source="registration",
        correlation_id=f"activity-{first.activity_id}",
        activity_id=first.activity_id,
        activity_title=first.activity_title,
        activity_date=date(2026, 12, 12),
        activity_location="Balai Desa Modopuro",
        starts_at=datetime(2026, 12, 12, 2, 0, tzinfo=UTC),  # 09.00 WIB
        ends_at=datetime(2026, 12, 12, 4, 30, tzinfo=UTC),  # 11.30 WIB
        previous_date=first.activity_date,
        changed_fields=changed,
        registration_ids=registration_ids,
    )


async def _all_handled(redis: Redis) -> None:
    """Waits until the consultation group has read and acknowledged every change."""

    async def probe() -> bool:
        groups = await redis.xinfo_groups(ActivityChangedV1.STREAM)
        ours = [g for g in groups if _text(g["name"]) == GROUP]
        return bool(ours) and ours[0]["pending"] == 0 and ours[0]["lag"] == 0

    await wait_for(probe, timeout=60, what="every change handled")


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def _notices(client: Any) -> list[OutboundMessage]:
    app = client._transport.app
    async with app.state.runtime.db.session() as session:
        rows = await session.scalars(
            select(OutboundMessage).where(OutboundMessage.kind == "activity_changed")
        )
        return list(rows)


async def test_a_moved_event_tells_each_consenting_registrant_once(
    settings: Settings, fake: FakeCloudApi, redis_client: Redis
) -> None:
    consenting = participant_registered()
    silent = participant_registered(activity_id=consenting.activity_id, consent=False)
    change = activity_changed(
        consenting,
        [consenting.registration_id, silent.registration_id],
        ["date", "starts_at", "ends_at", "location"],
    )
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        await publish(redis_client, consenting)
        await publish(redis_client, silent)
        await received(fake, consenting.phone, "menjamu_undangan_grup")
        await publish(redis_client, change, times=2)
        [notice] = await received(fake, consenting.phone, NOTICE)
        # A new registrant never wrote: outside the window, the tenant's notice template.
        text = text_of(notice)
        assert "Sabtu, 12 Desember 2026, 09.00-11.30 WIB" in text
        assert "Balai Desa Modopuro" in text and consenting.activity_title in text
        assert "Halo Ayu" in text

        await _all_handled(redis_client)
        notices = await _notices(client)
        assert [n.to_phone for n in notices] == [consenting.phone]
        assert len([m for m in fake.sent_to(consenting.phone) if NOTICE in text_of(m)]) == 1
        assert fake.sent_to(silent.phone) == []


async def test_a_new_title_alone_sends_nothing(
    settings: Settings, fake: FakeCloudApi, redis_client: Redis
) -> None:
    registered = participant_registered()
    retitled = activity_changed(registered, [registered.registration_id], ["title"])
    moved = activity_changed(registered, [registered.registration_id], ["location"])
    async with running_app(create_app, settings, MIGRATIONS) as (_app, client):
        await publish(redis_client, registered)
        await received(fake, registered.phone, "menjamu_undangan_grup")
        await publish(redis_client, retitled)
        await publish(redis_client, moved)
        await received(fake, registered.phone, NOTICE)
        await _all_handled(redis_client)
        assert len(await _notices(client)) == 1
        assert len([m for m in fake.sent_to(registered.phone) if NOTICE in text_of(m)]) == 1
