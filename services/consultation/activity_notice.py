"""An event moved (ActivityChangedV1): each consenting registrant is told the new time and
place on WhatsApp, once per change and registrant (free text in the 24-hour window, the
tenant's `notice` template outside it)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.consultation import outbound, repository
from services.consultation.config import TenantConfig
from services.consultation.models import Registrant
from shared.contracts import ActivityChangedV1
from shared.dates import when_id
from shared.logging import get_logger

KIND_ACTIVITY_CHANGED = "activity_changed"
# The fields whose change participants must hear about (a new title alone is not news).
MOVING_FIELDS = frozenset({"date", "starts_at", "ends_at", "location"})
log = get_logger(__name__)


class RegistrantsUnknown(Exception):
    """Some registrations of the change are not known here yet (their events not handled)."""


def notice_text(event: ActivityChangedV1, timezone: str, first_name: str = "") -> str:
    """The notice, on one line (a template parameter takes no line breaks)."""
    greeting = f"Halo {first_name}, " if first_name else "Halo, "
    when = when_id(event.activity_date, event.starts_at, event.ends_at, timezone)
    return (
        f'{greeting}ada perubahan jadwal kegiatan "{event.activity_title}". '
        f"Jadwal baru: {when}. Tempat: {event.activity_location}. "
        "Mohon sesuaikan kehadiran Anda. Terima kasih."
    )


def dedupe_key(event: ActivityChangedV1, registration_id: uuid.UUID) -> str:
    """One notice per (change, registration): a redelivered or republished change sends none."""
    return f"activity_changed:{event.event_id}:{registration_id}"


async def notify_registrants(
    session: AsyncSession, config: TenantConfig, event: ActivityChangedV1, *, now: datetime
) -> int:
    """Queues the notices of one change; returns how many were queued now.

    Raises RegistrantsUnknown (the whole change is retried later, the dedupe keys keep what
    went out once) while a registration's ParticipantRegisteredV1 has not been handled yet.
    """
    moved = sorted(MOVING_FIELDS.intersection(event.changed_fields))
    if not moved:
        log.info("consultation.activity_change_ignored", activity_id=str(event.activity_id))
        return 0
    rows = await _registrants(session, event)
    missing = len(set(event.registration_ids) - set(rows))
    if missing:
        raise RegistrantsUnknown(f"{missing} registration(s) of the change not seen yet")
    queued = skipped = 0
    for registration_id in event.registration_ids:
        registrant = rows[registration_id]
        if not registrant.consent or not registrant.phone:
            skipped += 1
            continue
        queued += await _queue_notice(session, config, event, registrant, now)
    log.info(
        "consultation.activity_change_notified",
        activity_id=str(event.activity_id),
        changed=moved,
        queued=queued,
        no_consent=skipped,
    )
    return queued


async def _registrants(
    session: AsyncSession, event: ActivityChangedV1
) -> dict[uuid.UUID, Registrant]:
    """The change's registrants known here, of the event's tenant only."""
    if not event.registration_ids:
        return {}
    found = await session.scalars(
        select(Registrant).where(
            Registrant.registration_id.in_(event.registration_ids),
            Registrant.tenant == event.tenant,
        )
    )
    return {r.registration_id: r for r in found}


async def _queue_notice(
    session: AsyncSession,
    config: TenantConfig,
    event: ActivityChangedV1,
    registrant: Registrant,
    now: datetime,
) -> int:
    key = dedupe_key(event, registrant.registration_id)
    if await repository.find_by_dedupe_key(session, key) is not None:
        return 0
    text = notice_text(event, config.tenant.timezone, registrant.first_name)
    await outbound.queue(
        session,
        config,
        to=registrant.phone,
        body=text,
        kind=KIND_ACTIVITY_CHANGED,
        template_kind="notice",
        params=[text],
        now=now,
        dedupe_key=key,
    )
    return 1
