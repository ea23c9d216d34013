"""Activity (kegiatan) rules: times in the tenant's zone, desa served, capacity, date changes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from services.registration import repository
from services.registration.models import Activity, RegistrationStatus
from services.registration.schemas import ActivityCreate, ActivityUpdate
from services.registration.service import (
    SOURCE,
    ActivityNotFound,
    DesaNotServed,
    check_capacity,
    fill_places,
    registered_event,
    tenant_for,
)
from shared.contracts import ActivityChangedV1, utcnow
from shared.dates import as_utc, local_date
from shared.outbox import add_event
from shared.problems import Problem
from shared.tenants import Tenant

_MOVING = ("date", "starts_at", "ends_at", "location")
# Fields an edit may change but not empty (the others: null = no end, no limit, no desa...).
_REQUIRED = {
    "title": "Judul",
    "date": "Tanggal",
    "venue": "Tempat",
    "location": "Tempat",
    "certificate_policy": "Kebijakan sertifikat",
    "registration_open": "Status pendaftaran",
}


class RequiredFieldCleared(Problem):
    """An edit emptied a field an activity cannot do without (field; fact: label)."""


class StartMissing(Problem):
    """An activity without a date or start time."""


class VenueMissing(Problem):
    """An activity without a venue."""


class EndsBeforeStart(Problem):
    """An activity ending at or before its start."""


class ClosesBeforeOpens(Problem):
    """A registration window closing at or before it opens."""


def to_utc(value: datetime | None, tenant: Tenant) -> datetime | None:
    """Reads a time without offset in the tenant's zone; returns it in UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(tenant.timezone))
    return as_utc(value)


def _fields(data: ActivityCreate | ActivityUpdate, tenant: Tenant) -> dict[str, Any]:
    """Turns the sent fields into column values (UTC times, venue -> location)."""
    values = data.model_dump(exclude_unset=True)
    values.pop("tenant", None)
    if "venue" in values:
        values["location"] = values.pop("venue")
    for key in ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at"):
        if key in values:
            values[key] = to_utc(values[key], tenant)
    if values.get("starts_at") is not None and "date" not in values:
        values["date"] = local_date(values["starts_at"], tenant.timezone)
    if values.get("desa") and tenant.desa and values["desa"] not in tenant.desa:
        raise DesaNotServed(desa=values["desa"], kecamatan=tenant.name)
    return values


def _check_times(activity: Activity) -> None:
    if (
        activity.starts_at
        and activity.ends_at
        and as_utc(activity.ends_at) <= as_utc(activity.starts_at)
    ):
        raise EndsBeforeStart()
    opens, closes = activity.registration_opens_at, activity.registration_closes_at
    if opens and closes and as_utc(closes) <= as_utc(opens):
        raise ClosesBeforeOpens()


async def create_activity(
    session: AsyncSession, *, tenant: Tenant, data: ActivityCreate, created_by: str
) -> Activity:
    """Creates a socialisation activity for a tenant, open for registration."""
    values = _fields(data, tenant)
    if values.get("date") is None:
        raise StartMissing()
    if not values.get("location"):
        raise VenueMissing()
    activity = Activity(
        id=uuid.uuid4(),
        tenant=tenant.code,
        registration_open=True,
        created_at=utcnow(),
        created_by=created_by,
        **values,
    )
    _check_times(activity)
    await repository.add(session, activity)
    return activity


async def update_activity(
    session: AsyncSession,
    activity_id: uuid.UUID,
    *,
    tenant_of: dict[str, Tenant],
    data: ActivityUpdate,
) -> tuple[Activity, list[str]]:
    """Edits an activity; refuses a capacity below the registered count; announces a move."""
    activity = await repository.lock_activity(session, activity_id)
    if activity is None:
        raise ActivityNotFound()
    await session.refresh(activity)
    tenant = tenant_for(tenant_of, activity.tenant)
    for key, value in data.model_dump(exclude_unset=True).items():
        if value is None and key in _REQUIRED:
            raise RequiredFieldCleared(label=_REQUIRED[key], field=key)
    values = _fields(data, tenant)
    check_capacity(activity, values.get("capacity", activity.capacity))
    before = {key: getattr(activity, key) for key in _MOVING}
    for key, value in values.items():
        setattr(activity, key, value)
    _check_times(activity)
    activity.updated_at = utcnow()
    await session.flush()
    # A larger capacity takes people from the waiting list, announced as for a sign-up.
    for promoted in await fill_places(repository.SqlWaitingList(session), activity):
        await add_event(session, registered_event(activity, promoted))
    moved = [k for k in _MOVING if _differs(before[k], getattr(activity, k))]
    if moved:
        await _announce_move(session, activity, before, moved)
    return activity, moved


def _differs(old: Any, new: Any) -> bool:
    if isinstance(old, datetime) and isinstance(new, datetime):
        return as_utc(old) != as_utc(new)
    return bool(old != new)


async def _announce_move(
    session: AsyncSession, activity: Activity, before: dict[str, Any], moved: list[str]
) -> None:
    """Queues ActivityChangedV1 for the registered participants of a moved activity."""
    rows = await repository.list_registrations(
        session, activity.id, status=RegistrationStatus.REGISTERED
    )
    await add_event(
        session,
        ActivityChangedV1(
            tenant=activity.tenant,
            source=SOURCE,
            correlation_id=f"activity-{activity.id}",
            activity_id=activity.id,
            activity_title=activity.title,
            activity_date=activity.date,
            activity_location=activity.location,
            starts_at=as_utc(activity.starts_at) if activity.starts_at else None,
            ends_at=as_utc(activity.ends_at) if activity.ends_at else None,
            previous_date=before["date"],
            previous_starts_at=as_utc(before["starts_at"]) if before["starts_at"] else None,
            changed_fields=moved,
            registration_ids=[r.id for r in rows],
        ),
    )
