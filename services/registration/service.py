"""Registration rules: who may register for which event, and what it announces."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.registration import repository
from services.registration.models import Activity, Registration
from services.registration.schemas import ActivityCreate, RegistrationCreate
from shared.contracts import ParticipantRegisteredV1, utcnow
from shared.outbox import add_event
from shared.problems import DomainError, NotFound
from shared.tenants import Tenant

SOURCE = "registration"


async def create_activity(
    session: AsyncSession, *, tenant: Tenant, data: ActivityCreate, created_by: str
) -> Activity:
    """Creates a socialisation event for a tenant, open for registration."""
    activity = Activity(
        id=uuid.uuid4(),
        tenant=tenant.code,
        title=data.title,
        date=data.date,
        location=data.location,
        capacity=data.capacity,
        registration_open=True,
        created_at=utcnow(),
        created_by=created_by,
    )
    await repository.add(session, activity)
    return activity


async def get_activity(session: AsyncSession, activity_id: uuid.UUID) -> Activity:
    """Gets an activity or raises NotFound (in Indonesian)."""
    activity = await repository.get_activity(session, activity_id)
    if activity is None:
        raise NotFound("Kegiatan tidak ditemukan. Periksa kembali tautan pendaftaran Anda.")
    return activity


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


async def existing_registration(
    session: AsyncSession, activity_id: uuid.UUID, data: RegistrationCreate
) -> Registration:
    """Returns the registration a phone already has for an activity (after a lost race)."""
    existing = await repository.find_registration(session, activity_id, data.phone)
    if existing is None:
        raise DomainError(
            "Pendaftaran belum dapat disimpan; silakan kirim ulang.", status=409, code="bentrok"
        )
    return existing


async def register_participant(
    session: AsyncSession,
    *,
    activity_id: uuid.UUID,
    tenant_of: dict[str, Tenant],
    data: RegistrationCreate,
    correlation_id: str,
) -> tuple[Registration, bool]:
    """Registers a participant once per phone per event; returns (registration, created).

    A repeated submission with the same phone returns the first registration unchanged, so
    a double tap on a slow connection neither fails nor registers twice. The event
    ParticipantRegisteredV1 is queued in the outbox in the same transaction.
    """
    activity = await repository.lock_activity(session, activity_id)
    if activity is None:
        raise NotFound("Kegiatan tidak ditemukan. Periksa kembali tautan pendaftaran Anda.")
    existing = await repository.find_registration(session, activity_id, data.phone)
    if existing is not None:
        return existing, False
    if not activity.registration_open:
        raise DomainError(
            "Pendaftaran untuk kegiatan ini sudah ditutup.", status=409, code="pendaftaran_ditutup"
        )
    tenant = tenant_of[activity.tenant]
    check_participant(tenant, data)
    if activity.capacity is not None and (
        await repository.count_registrations(session, activity_id) >= activity.capacity
    ):
        raise DomainError("Kuota peserta kegiatan ini sudah penuh.", status=409, code="kuota_penuh")
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
        correlation_id=correlation_id,
        created_at=utcnow(),
    )
    await repository.add(session, registration)
    await add_event(
        session,
        ParticipantRegisteredV1(
            tenant=activity.tenant,
            source=SOURCE,
            correlation_id=correlation_id,
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
        ),
    )
    return registration, True
