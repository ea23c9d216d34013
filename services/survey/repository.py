"""Every query of the survey service."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.survey.models import Aggregate, DailyResponses, Response, Unit


def _insert(session: AsyncSession, model: type[Any]) -> Any:
    """An INSERT that supports ON CONFLICT on both PostgreSQL and SQLite."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


async def upsert_unit(session: AsyncSession, *, tenant: str, code: str, name: str) -> None:
    """Creates a unit or renames and reactivates it (safe when replicas start together)."""
    stmt = _insert(session, Unit).values(tenant=tenant, code=code, name=name, active=True)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["tenant", "code"], set_={"name": name, "active": True}
        )
    )


async def deactivate_units_except(session: AsyncSession, tenant: str, keep: list[str]) -> None:
    """Marks a tenant's units that are no longer in its tenant file as inactive."""
    await session.execute(
        update(Unit)
        .where(Unit.tenant == tenant, Unit.code.not_in(keep), Unit.active.is_(True))
        .values(active=False)
    )


async def get_unit(session: AsyncSession, tenant: str, code: str) -> Unit | None:
    """Gets a tenant's unit by its code."""
    return await session.scalar(select(Unit).where(Unit.tenant == tenant, Unit.code == code))


async def list_active_units(session: AsyncSession, tenant: str) -> list[Unit]:
    """Lists a tenant's active units by code."""
    return list(
        (
            await session.scalars(
                select(Unit).where(Unit.tenant == tenant, Unit.active.is_(True)).order_by(Unit.code)
            )
        ).all()
    )


async def add_response(session: AsyncSession, response: Response) -> None:
    """Adds a response and flushes it."""
    session.add(response)
    await session.flush()


async def add_to_aggregates(
    session: AsyncSession,
    *,
    tenant: str,
    unit: str,
    local_date: date,
    totals: Mapping[str, tuple[int, int]],
) -> None:
    """Adds (score_sum, answered) per unsur to a unit's day, creating the rows when needed."""
    if not totals:
        return
    stmt = _insert(session, Aggregate).values(
        [
            {
                "tenant": tenant,
                "unit": unit,
                "local_date": local_date,
                "unsur": code,
                "score_sum": score_sum,
                "answered": answered,
            }
            for code, (score_sum, answered) in sorted(totals.items())
        ]
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["tenant", "unit", "local_date", "unsur"],
            set_={
                "score_sum": Aggregate.score_sum + stmt.excluded.score_sum,
                "answered": Aggregate.answered + stmt.excluded.answered,
            },
        )
    )


async def add_to_daily_responses(
    session: AsyncSession, *, tenant: str, unit: str, local_date: date, count: int = 1
) -> None:
    """Adds to the number of responses a unit received on one day."""
    stmt = _insert(session, DailyResponses).values(
        tenant=tenant, unit=unit, local_date=local_date, responses=count
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["tenant", "unit", "local_date"],
            set_={"responses": DailyResponses.responses + stmt.excluded.responses},
        )
    )


async def sum_aggregates(
    session: AsyncSession, *, tenant: str, unit: str | None, start: date, end: date
) -> dict[str, tuple[int, int]]:
    """Sums (score_sum, answered) per unsur over a period (local dates, inclusive)."""
    query = (
        select(Aggregate.unsur, func.sum(Aggregate.score_sum), func.sum(Aggregate.answered))
        .where(
            Aggregate.tenant == tenant, Aggregate.local_date >= start, Aggregate.local_date <= end
        )
        .group_by(Aggregate.unsur)
    )
    if unit is not None:
        query = query.where(Aggregate.unit == unit)
    return {row[0]: (int(row[1]), int(row[2])) for row in await session.execute(query)}


async def sum_responses(
    session: AsyncSession, *, tenant: str, unit: str | None, start: date, end: date
) -> int:
    """Counts the responses of a period from the per-day counts."""
    query = select(func.coalesce(func.sum(DailyResponses.responses), 0)).where(
        DailyResponses.tenant == tenant,
        DailyResponses.local_date >= start,
        DailyResponses.local_date <= end,
    )
    if unit is not None:
        query = query.where(DailyResponses.unit == unit)
    return int((await session.execute(query)).scalar_one())
