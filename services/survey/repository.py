"""Every query of the survey service."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import func, literal, select, union_all, update
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


RESPONSES_KEY = "_responses"


async def sum_period(
    session: AsyncSession, *, tenant: str, unit: str | None, start: date, end: date
) -> tuple[dict[str, tuple[int, int]], int]:
    """Sums (score_sum, answered) per unsur and the response count over a period (local dates,
    inclusive) in ONE statement, so both come from the same snapshot even while the aggregator
    commits (two SELECTs could see the count of a batch but not its scores)."""
    per_unsur = select(
        Aggregate.unsur.label("key"),
        func.sum(Aggregate.score_sum).label("a"),
        func.sum(Aggregate.answered).label("b"),
    ).where(Aggregate.tenant == tenant, Aggregate.local_date >= start, Aggregate.local_date <= end)
    count = select(
        literal(RESPONSES_KEY).label("key"),
        func.coalesce(func.sum(DailyResponses.responses), 0).label("a"),
        literal(0).label("b"),
    ).where(
        DailyResponses.tenant == tenant,
        DailyResponses.local_date >= start,
        DailyResponses.local_date <= end,
    )
    if unit is not None:
        per_unsur = per_unsur.where(Aggregate.unit == unit)
        count = count.where(DailyResponses.unit == unit)
    rows = (await session.execute(union_all(per_unsur.group_by(Aggregate.unsur), count))).all()
    responses = next((int(r.a) for r in rows if r.key == RESPONSES_KEY), 0)
    sums = {r.key: (int(r.a), int(r.b)) for r in rows if r.key != RESPONSES_KEY}
    return sums, responses
