"""Registration rules: sign-up, waiting list, cancellation, check-in, and what they announce."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.registration import repository
from services.registration.models import Activity, Registration, RegistrationStatus
from services.registration.schemas import RegistrationCreate
from shared.contracts import (
    ParticipantCancelledV1,
    ParticipantRegisteredV1,
    utcnow,
)
from shared.dates import as_utc
from shared.logging import get_logger
from shared.outbox import add_event
from shared.problems import DomainError, NotFound
from shared.tenants import Tenant, TenantUnavailable

SOURCE = "registration"
log = get_logger(__name__)
# Version of the consent notice on the form (templates/consent.html); stored per registration.
CONSENT_VERSION = "2026-11-v1"
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud at the door
NOT_FOUND = "Kegiatan tidak ditemukan. Periksa kembali tautan pendaftaran Anda."


@dataclass
class SignUp:
    """The outcome of a sign-up: the registration, whether it is new, and its secret token."""

    registration: Registration
    created: bool
    token: str | None = None


def tenant_for(tenants: dict[str, Tenant], code: str) -> Tenant:
    """Gets an event's kecamatan; a missing tenant file is a 503 for people, an error for ops."""
    tenant = tenants.get(code)
    if tenant is None:
        log.error("tenant.file_missing", tenant=code, hint="tenant file absent")
        raise TenantUnavailable(code)
    return tenant


def hash_token(token: str) -> str:
    """Hashes a confirmation token: the database never holds a token that opens a page."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_code() -> str:
    """Returns a check-in code: 8 characters, easy to read aloud."""
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))


def check_participant(tenant: Tenant, data: RegistrationCreate) -> None:
    """Checks the participant's level and desa against the tenant's lists."""
    levels = tenant.participant_levels
    if levels and data.level not in levels:
        raise DomainError(
            f"Jenjang harus salah satu dari: {', '.join(levels)}.",
            status=422,
            field="level",
            code="data_tidak_valid",
        )
    if tenant.desa and data.desa and data.desa not in tenant.desa:
        raise DomainError(
            f"Desa/kelurahan '{data.desa}' tidak ada di {tenant.name}.",
            status=422,
            field="desa",
            code="data_tidak_valid",
        )


def check_window(activity: Activity, now: datetime) -> None:
    """Refuses a sign-up outside the event's registration window or after it was closed."""
    closed = DomainError(
        "Pendaftaran untuk kegiatan ini sudah ditutup.", status=409, code="pendaftaran_ditutup"
    )
    if not activity.registration_open:
        raise closed
    if activity.registration_opens_at and now < as_utc(activity.registration_opens_at):
        raise DomainError(
            "Pendaftaran untuk kegiatan ini belum dibuka.",
            status=409,
            code="pendaftaran_belum_dibuka",
        )
    if activity.registration_closes_at and now >= as_utc(activity.registration_closes_at):
        raise closed


def registered_event(
    activity: Activity, registration: Registration, *, causation_id: str | None = None
) -> ParticipantRegisteredV1:
    """Builds the event that tells certificates and consultation about a held place."""
    return ParticipantRegisteredV1(
        tenant=activity.tenant,
        source=SOURCE,
        correlation_id=registration.correlation_id,
        causation_id=causation_id,
        registration_id=registration.id,
        activity_id=activity.id,
        activity_title=activity.title,
        activity_date=activity.date,
        activity_location=activity.location,
        name=registration.name,
        school=registration.school,
        phone=registration.phone,
        level=registration.level,
        desa=registration.desa,
        consent=registration.consent,
        certificate_policy=activity.certificate_policy,
        whatsapp_cohort=activity.whatsapp_cohort,
    )


def _place(activity: Activity) -> tuple[str, int | None]:
    """Decides registered or waitlisted (with position) from the event's maintained counts.

    The caller holds the event's lock; the waiting list's positions are 1..waitlisted_count.
    """
    if activity.capacity is None or activity.registered_count < activity.capacity:
        return RegistrationStatus.REGISTERED, None
    return RegistrationStatus.WAITLISTED, activity.waitlisted_count + 1


def count_place(activity: Activity, status: str, delta: int) -> None:
    """Moves an event's registered or waitlisted count (flushed with the registration)."""
    if status == RegistrationStatus.REGISTERED:
        activity.registered_count += delta
    elif status == RegistrationStatus.WAITLISTED:
        activity.waitlisted_count += delta


async def register_participant(
    session: AsyncSession,
    *,
    activity_id: uuid.UUID,
    tenant_of: dict[str, Tenant],
    data: RegistrationCreate,
    correlation_id: str,
) -> SignUp:
    """Registers a participant once per phone per event, on the waiting list when it is full.

    A repeat with the same phone while its registration is active changes nothing; after a
    cancellation the phone may sign up again (a new registration; the cancelled one stays).
    ParticipantRegisteredV1 is queued in the same transaction only for a held place.
    """
    activity = await repository.lock_activity(session, activity_id)
    if activity is None:
        raise NotFound(NOT_FOUND)
    existing = await repository.find_registration(session, activity_id, data.phone)
    if existing is not None:
        return SignUp(existing, created=False)
    check_window(activity, utcnow())
    check_participant(tenant_for(tenant_of, activity.tenant), data)
    status, position = _place(activity)
    count_place(activity, status, +1)
    token = secrets.token_urlsafe(32)
    registration = Registration(
        id=uuid.uuid4(),
        activity_id=activity.id,
        tenant=activity.tenant,
        name=data.name,
        school=data.school,
        phone=data.phone,
        level=data.level,
        desa=data.desa,
        consent=data.consent,
        consent_version=CONSENT_VERSION,
        correlation_id=correlation_id,
        created_at=utcnow(),
        status=status,
        waitlist_position=position,
        code=new_code(),
        token_hash=hash_token(token),
    )
    await repository.add(session, registration)
    if status == RegistrationStatus.REGISTERED:
        await add_event(session, registered_event(activity, registration))
    return SignUp(registration, created=True, token=token)


async def by_token(session: AsyncSession, token: str) -> Registration:
    """Gets the registration a confirmation token opens, or raises NotFound."""
    registration = await repository.by_token_hash(session, hash_token(token))
    if registration is None:
        raise NotFound("Tautan konfirmasi tidak dikenal. Periksa kembali tautan Anda.")
    return registration


async def get_activity(session: AsyncSession, activity_id: uuid.UUID) -> Activity:
    """Gets an activity or raises NotFound (in Indonesian)."""
    activity = await repository.get_activity(session, activity_id)
    if activity is None:
        raise NotFound(NOT_FOUND)
    return activity


async def cancel(
    session: AsyncSession, registration_id: uuid.UUID, *, by: str, actor: str
) -> tuple[Registration, Registration | None]:
    """Cancels a registration and promotes the first on the waiting list into a freed place.

    Returns (cancelled, promoted). Cancelling twice is harmless; a checked-in one is refused.
    """
    found = await repository.get_registration(session, registration_id)
    if found is None:
        raise NotFound("Pendaftaran tidak ditemukan.")
    activity = await repository.lock_activity(session, found.activity_id)
    assert activity is not None  # a registration's activity is never deleted
    await session.refresh(found)
    registration = found
    if registration.status == RegistrationStatus.CANCELLED:
        return registration, None
    if registration.checked_in_at is not None:
        raise DomainError(
            "Peserta sudah hadir (check-in); pendaftaran tidak dapat dibatalkan.",
            status=409,
            code="sudah_hadir",
        )
    previous, position = registration.status, registration.waitlist_position
    registration.status = RegistrationStatus.CANCELLED
    count_place(activity, previous, -1)
    registration.waitlist_position = None
    registration.cancelled_at = utcnow()
    registration.cancelled_by = actor
    await session.flush()
    promoted = await _free_place(session, activity, previous, position)
    cancelled = ParticipantCancelledV1(
        tenant=activity.tenant,
        source=SOURCE,
        correlation_id=registration.correlation_id,
        registration_id=registration.id,
        activity_id=activity.id,
        cancelled_at=registration.cancelled_at,
        reason="dibatalkan peserta" if by == "participant" else "dibatalkan petugas",
        previous_status=previous,
        cancelled_by=by,
        promoted_registration_id=promoted.id if promoted else None,
    )
    await add_event(session, cancelled)
    if promoted is not None:
        event = registered_event(activity, promoted, causation_id=str(cancelled.event_id))
        await add_event(session, event)
    return registration, promoted


async def _free_place(
    session: AsyncSession, activity: Activity, previous: str, position: int | None
) -> Registration | None:
    """After a cancellation: the waiting list closes its gap, or its first takes the place."""
    if previous == RegistrationStatus.WAITLISTED and position is not None:
        await repository.move_waitlist_up(session, activity.id, position)
        return None
    return await promote(session, activity)


async def promote(session: AsyncSession, activity: Activity) -> Registration | None:
    """Moves the first waitlisted into a free place, if there is one (caller holds the lock)."""
    if activity.capacity is not None and activity.registered_count >= activity.capacity:
        return None
    first = await repository.first_waitlisted(session, activity.id)
    if first is None:
        return None
    position = first.waitlist_position or 0
    first.status = RegistrationStatus.REGISTERED
    first.waitlist_position = None
    count_place(activity, RegistrationStatus.WAITLISTED, -1)
    count_place(activity, RegistrationStatus.REGISTERED, +1)
    await session.flush()
    await repository.move_waitlist_up(session, activity.id, position)
    return first
