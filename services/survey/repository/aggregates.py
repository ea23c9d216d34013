"""Queries on the daily and monthly aggregates (the IKM read model)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Integer, cast, delete, func, literal, select, text, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from services.survey.aggregation import MONTH_PREFIX
from services.survey.models import (
    Aggregate,
    DailyResponses,
    ProfileCount,
    Response,
)
from shared.db import insert_for
from shared.outbox import processed_events_table


async def _upsert_add(
    session: AsyncSession, table: Any, keys: list[str], added: list[str], rows: list[Any]
) -> None:
    """INSERT ... ON CONFLICT (keys) DO UPDATE adding `added` columns, for all rows at once.

    One compiled statement (cached) sent with executemany: a multi-row VALUES built per batch
    costs SQLAlchemy more time to compile than the database takes to run it.
    """
    if not rows:
        return
    stmt = insert_for(session, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=keys, set_={c: table.c[c] + stmt.excluded[c] for c in added}
    )
    await session.execute(stmt, rows)


async def add_to_aggregates(
    session: AsyncSession, sums: Mapping[tuple[str, str, date, str], list[int]]
) -> None:
    """Adds (score_sum, answered) per tenant, unit, day and unsur: one upsert statement."""
    rows = [
        {"tenant": t, "unit": u, "local_date": d, "unsur": c, "score_sum": s, "answered": n}
        for (t, u, d, c), (s, n) in sorted(sums.items())  # sorted: replicas never deadlock
    ]
    keys = ["tenant", "unit", "local_date", "unsur"]
    await _upsert_add(session, Aggregate.__table__, keys, ["score_sum", "answered"], rows)


async def add_to_daily_responses(
    session: AsyncSession, counts: Mapping[tuple[str, str, date], int]
) -> None:
    """Adds to the number of responses per tenant, unit and day: one upsert statement."""
    rows = [
        {"tenant": t, "unit": u, "local_date": d, "responses": n}
        for (t, u, d), n in sorted(counts.items())
    ]
    keys = ["tenant", "unit", "local_date"]
    await _upsert_add(session, DailyResponses.__table__, keys, ["responses"], rows)


async def add_to_profile_counts(
    session: AsyncSession, counts: Mapping[tuple[str, str, date, str, str], int]
) -> None:
    """Adds to the per-day profile value counts: one upsert statement."""
    rows = [
        {"tenant": t, "unit": u, "local_date": d, "dimension": k, "value": v, "responses": n}
        for (t, u, d, k, v), n in sorted(counts.items())
    ]
    keys = ["tenant", "unit", "local_date", "dimension", "value"]
    await _upsert_add(session, ProfileCount.__table__, keys, ["responses"], rows)


@dataclass(frozen=True, slots=True)
class PeriodSums:
    """A period's sums from one snapshot: scores and counts per unit and month, profiles."""

    scores: list[tuple[str, int, str, int, int]]  # unit, yyyymm, unsur key, score_sum, answered
    counts: list[tuple[str, int, int]]  # unit, yyyymm, responses
    profiles: list[tuple[str, str, int]]  # dimension, value, responses


def _year_month(column: Any) -> Any:
    """yyyymm of a date column, on PostgreSQL and SQLite alike."""
    year = cast(func.extract("year", column), Integer)
    return year * 100 + cast(func.extract("month", column), Integer)


def _whole_months(start: date, end: date) -> tuple[date, date] | None:
    """The first and last month starts wholly inside [start, end], or None."""
    first = start if start.day == 1 else (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    after = end + timedelta(days=1)
    last = (after.replace(day=1) - timedelta(days=1)).replace(day=1)
    return (first, last) if first <= last else None


def _rows_for(day: Any, key: Any, start: date, end: date) -> Any:
    """Which rows sum to [start, end]: monthly ones for whole months, daily ones for the rest."""
    daily = ~key.startswith(MONTH_PREFIX)
    months = _whole_months(start, end)
    if months is None:
        return daily & day.between(start, end)
    first, last = months
    after_last = (last + timedelta(days=31)).replace(day=1)  # the day after the last month
    monthly = key.startswith(MONTH_PREFIX) & day.between(first, last)
    edges = (day >= start) & (day < first) | (day >= after_last) & (day <= end)
    return monthly | (daily & edges)


async def period_sums(
    session: AsyncSession, *, tenant: str, unit: str | None, start: date, end: date
) -> PeriodSums:
    """Sums a period per unit and month in ONE statement (one snapshot while batches commit)."""
    ym_a, ym_d = _year_month(Aggregate.local_date), _year_month(DailyResponses.local_date)
    scores = select(
        literal("S").label("kind"), Aggregate.unit.label("unit"), ym_a.label("ym"),
        Aggregate.unsur.label("key"), func.sum(Aggregate.score_sum).label("a"),
        func.sum(Aggregate.answered).label("b"),
    ).where(
        Aggregate.tenant == tenant,
        _rows_for(Aggregate.local_date, Aggregate.unsur, start, end),
    )  # fmt: skip
    counts = select(
        literal("N"), DailyResponses.unit, ym_d, literal(""),
        func.sum(DailyResponses.responses), literal(0),
    ).where(
        DailyResponses.tenant == tenant, DailyResponses.local_date.between(start, end)
    )  # fmt: skip
    profiles = select(
        literal("P"), ProfileCount.dimension, literal(0), ProfileCount.value,
        func.sum(ProfileCount.responses), literal(0),
    ).where(
        ProfileCount.tenant == tenant,
        _rows_for(ProfileCount.local_date, ProfileCount.dimension, start, end),
    )  # fmt: skip
    if unit is not None:
        scores = scores.where(Aggregate.unit == unit)
        counts = counts.where(DailyResponses.unit == unit)
        profiles = profiles.where(ProfileCount.unit == unit)
    query = union_all(
        scores.group_by(Aggregate.unit, ym_a, Aggregate.unsur),
        counts.group_by(DailyResponses.unit, ym_d),
        profiles.group_by(ProfileCount.dimension, ProfileCount.value),
    )
    result = PeriodSums([], [], [])
    for kind, u, ym, key, a, b in (await session.execute(query)).all():
        if kind == "S":
            result.scores.append((u, int(ym), key.removeprefix(MONTH_PREFIX), int(a), int(b)))
        elif kind == "N":
            result.counts.append((u, int(ym), int(a)))
        else:
            result.profiles.append((u.removeprefix(MONTH_PREFIX), key, int(a)))
    return result


async def lock_and_clear_aggregates(session: AsyncSession) -> None:
    """Empties the aggregates, holding them against the aggregator until the commit."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text("LOCK TABLE aggregates, daily_responses, profile_counts IN EXCLUSIVE MODE")
        )
    # On SQLite the first DELETE takes the database's write lock for the whole transaction.
    for model in (Aggregate, DailyResponses, ProfileCount):
        await session.execute(delete(model))


async def processed_event_ids(session: AsyncSession, group: str) -> set[str]:
    """Every event id a consumer group has handled."""
    table = processed_events_table
    rows = await session.execute(select(table.c.event_id).where(table.c.consumer_group == group))
    return {row[0] for row in rows}


async def stream_responses(session: AsyncSession) -> AsyncIterator[Response]:
    """Every stored response, read in chunks."""
    result = await session.stream_scalars(select(Response).execution_options(yield_per=2000))
    async for response in result:
        yield response
