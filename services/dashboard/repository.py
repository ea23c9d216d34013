"""Every query of the dashboard's read model."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.dashboard.models import DailyCount, JournalEntry, OpenItem
from shared.db import insert_for


async def add_journal_entry(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Journals one event; False when it was already there (a redelivery)."""
    table = JournalEntry.__table__
    statement = (
        insert_for(session, table)
        .values(**values)
        .on_conflict_do_nothing()
        .returning(table.c.event_id)
    )
    return (await session.execute(statement)).first() is not None


async def add_counts(
    session: AsyncSession, tenant: str, day: date, counts: Sequence[tuple[str, str, int]]
) -> None:
    """Adds amounts to a tenant's daily counters in one statement (rows created on first use)."""
    amounts: dict[tuple[str, str], int] = {}
    for metric, dimension, amount in counts:
        key = (metric, dimension[:160])
        amounts[key] = amounts.get(key, 0) + amount  # one row may appear once per statement
    if not amounts:
        return
    table = DailyCount.__table__
    statement = insert_for(session, table).values(
        [
            {"tenant": tenant, "day": day, "metric": m, "dimension": d, "count": n}
            for (m, d), n in amounts.items()
        ]
    )
    statement = statement.on_conflict_do_update(
        index_elements=["tenant", "day", "metric", "dimension"],
        set_={"count": table.c.count + statement.excluded.count},
    )
    await session.execute(statement)


async def upsert_open_item(
    session: AsyncSession, tenant: str, kind: str, item_id: str, **values: Any
) -> None:
    """Records an item's opening or closing (in either order); a reassignment keeps the first
    opening time."""
    table = OpenItem.__table__
    statement = insert_for(session, table).values(
        tenant=tenant, kind=kind, item_id=item_id, **values
    )
    updates = {
        k: func.coalesce(table.c[k], statement.excluded[k])
        if k == "opened_at"
        else statement.excluded[k]
        for k in values
    }
    await session.execute(
        statement.on_conflict_do_update(index_elements=["kind", "item_id"], set_=updates)
    )


async def daily_counts(
    session: AsyncSession, tenant: str, since: date, metrics: Sequence[str] | None = None
) -> list[DailyCount]:
    """A tenant's daily counters from a day on (optionally of some metrics)."""
    query = select(DailyCount).where(DailyCount.tenant == tenant, DailyCount.day >= since)
    if metrics:
        query = query.where(DailyCount.metric.in_(metrics))
    return list((await session.scalars(query)).all())


async def totals(session: AsyncSession, metrics: Sequence[str]) -> list[tuple[str, str, int]]:
    """(tenant, metric, all-time total) of the given metrics."""
    query = (
        select(DailyCount.tenant, DailyCount.metric, func.sum(DailyCount.count))
        .where(DailyCount.metric.in_(metrics), DailyCount.dimension == "")
        .group_by(DailyCount.tenant, DailyCount.metric)
    )
    return [(t, m, int(n or 0)) for t, m, n in (await session.execute(query)).all()]


async def open_items(session: AsyncSession, tenant: str) -> list[OpenItem]:
    """A tenant's consultations and complaints that are still open, oldest first."""
    query = (
        select(OpenItem)
        .where(OpenItem.tenant == tenant, OpenItem.closed_at.is_(None))
        .order_by(OpenItem.opened_at)
    )
    return list((await session.scalars(query)).all())


async def first_response_times(
    session: AsyncSession, tenant: str, since: datetime, kind: str
) -> list[int]:
    """First-response times (s) of one kind's items (consultations, complaints) opened since."""
    query = select(OpenItem.first_response_s).where(
        OpenItem.tenant == tenant,
        OpenItem.kind == kind,
        OpenItem.first_response_s.is_not(None),
        OpenItem.opened_at >= since,
    )
    return [int(v) for v in (await session.scalars(query)).all() if v is not None]


async def registration_entry(session: AsyncSession, registration_id: str) -> JournalEntry | None:
    """The ParticipantRegistered journal entry of a registration, if seen."""
    query = select(JournalEntry).where(
        JournalEntry.registration_id == registration_id,
        JournalEntry.type == "registration.participant_registered",
    )
    return (await session.scalars(query)).first()


async def journey_entries(
    session: AsyncSession, tenant: str, registration_id: str, correlation_id: str | None
) -> list[JournalEntry]:
    """Every journaled event of one registration (by id or correlation), in time order."""
    match = JournalEntry.registration_id == registration_id
    if correlation_id:
        match = or_(match, JournalEntry.correlation_id == correlation_id)
    query = (
        select(JournalEntry)
        .where(JournalEntry.tenant == tenant, match)
        .order_by(JournalEntry.occurred_at, JournalEntry.event_id)
    )
    return list((await session.scalars(query)).all())


async def registrations_by_phone(session: AsyncSession, keys: dict[str, str]) -> list[JournalEntry]:
    """Registrations whose phone key matches, per tenant ({tenant: key})."""
    if not keys:
        return []
    match = or_(
        *[(JournalEntry.tenant == t) & (JournalEntry.phone_key == k) for t, k in keys.items()]
    )
    query = (
        select(JournalEntry)
        .where(JournalEntry.type == "registration.participant_registered", match)
        .order_by(JournalEntry.occurred_at)
    )
    return list((await session.scalars(query)).all())


async def delete_journal_before(session: AsyncSession, before: datetime, limit: int) -> int:
    """Deletes up to `limit` journal entries that happened before a moment, oldest first."""
    ids = list(
        (
            await session.scalars(
                select(JournalEntry.event_id)
                .where(JournalEntry.occurred_at < before)
                .order_by(JournalEntry.occurred_at)
                .limit(limit)
            )
        ).all()
    )
    if ids:
        await session.execute(delete(JournalEntry).where(JournalEntry.event_id.in_(ids)))
    return len(ids)
