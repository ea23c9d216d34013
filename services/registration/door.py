"""Check-in at the door: attendance by code, once, announced for on-check-in certificates."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.registration import repository
from services.registration.models import Registration, RegistrationStatus
from services.registration.service import SOURCE, ActivityNotFound
from shared.contracts import ParticipantCheckedInV1, utcnow
from shared.outbox import add_event
from shared.problems import Problem


class CodeNotForActivity(Problem):
    """A check-in code unknown, or another activity's."""


class StillWaitlisted(Problem):
    """A waitlisted participant has no place yet (fact: position)."""


class RegistrationCancelled(Problem):
    """A cancelled registration cannot be checked in."""


async def check_in(
    session: AsyncSession, activity_id: uuid.UUID, code: str, *, actor: str
) -> tuple[Registration, bool]:
    """Records attendance by code; returns (registration, already). Emits ParticipantCheckedInV1."""
    activity = await repository.lock_activity(session, activity_id)
    if activity is None:
        raise ActivityNotFound()
    registration = await repository.by_code(session, code.strip().upper().replace("-", ""))
    if registration is None or registration.activity_id != activity.id:
        raise CodeNotForActivity()
    if registration.status == RegistrationStatus.WAITLISTED:
        raise StillWaitlisted(position=registration.waitlist_position)
    if registration.status == RegistrationStatus.CANCELLED:
        raise RegistrationCancelled()
    if registration.checked_in_at is not None:
        return registration, True
    registration.checked_in_at = utcnow()
    registration.checked_in_by = actor
    await session.flush()
    await add_event(
        session,
        ParticipantCheckedInV1(
            tenant=activity.tenant,
            source=SOURCE,
            correlation_id=registration.correlation_id,
            registration_id=registration.id,
            activity_id=activity.id,
            checked_in_at=registration.checked_in_at,
            certificate_policy=activity.certificate_policy,
        ),
    )
    return registration, False
