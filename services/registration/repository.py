"""Every query of the registration service."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registration.models import Activity, Registration


async def add(session: AsyncSession, row: Activity | Registration) -> None:
    """Adds a row and flushes it so constraint violations surface now."""
    session.add(row)
    await session.flush()


async def get_activity(session: AsyncSession, activity_id: uuid.UUID) -> Activity | None:
    """Gets an activity by its id."""
    return await session.get(Activity, activity_id)


async def list_activities(session: AsyncSession, tenant: str | None) -> list[Activity]:
    """Lists activities, newest date first, optionally of one tenant."""
    query = select(Activity).order_by(Activity.date.desc(), Activity.created_at.desc())
    if tenant is not None:
        query = query.where(Activity.tenant == tenant)
    return list((await session.scalars(query)).all())


async def count_registrations(session: AsyncSession, activity_id: uuid.UUID) -> int:
    """Counts the registrations of an activity."""
    result = await session.execute(
        select(func.count())
        .select_from(Registration)
        .where(Registration.activity_id == activity_id)
    )
    return int(result.scalar_one())


async def find_registration(
    session: AsyncSession, activity_id: uuid.UUID, phone: str
) -> Registration | None:
    """Finds the registration of a phone number for an activity."""
    return await session.scalar(
        select(Registration).where(
            Registration.activity_id == activity_id, Registration.phone == phone
        )
    )


async def list_registrations(session: AsyncSession, activity_id: uuid.UUID) -> list[Registration]:
    """Lists an activity's registrations in the order they came."""
    return list(
        (
            await session.scalars(
                select(Registration)
                .where(Registration.activity_id == activity_id)
                .order_by(Registration.created_at)
            )
        ).all()
    )


async def lock_activity(session: AsyncSession, activity_id: uuid.UUID) -> Activity | None:
    """Gets an activity and locks it (PostgreSQL) so capacity checks do not race."""
    return await session.scalar(
        select(Activity).where(Activity.id == activity_id).with_for_update()
    )
