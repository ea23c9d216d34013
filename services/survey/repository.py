"""Every query of the survey service."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, cast, delete, func, literal, select, text, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.survey.aggregation import MONTH_PREFIX
from services.survey.models import (
    Aggregate,
    DailyResponses,
    Guide,
    ProfileCount,
    Response,
    SubmissionKey,
    Ticket,
    Unit,
)
from shared.outbox import processed_events_table


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


async def _upsert_add(
    session: AsyncSession, table: Any, keys: list[str], added: list[str], rows: list[Any]
) -> None:
    """INSERT ... ON CONFLICT (keys) DO UPDATE adding `added` columns, for all rows at once.

    One compiled statement (cached) sent with executemany: a multi-row VALUES built per batch
    costs SQLAlchemy more time to compile than the database takes to run it.
    """
    if not rows:
        return
    stmt = _insert(session, table)
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
class FoundSubmission:
    """A submission key already taken: which response it points to and that body's hash."""

    response_id: uuid.UUID
    body_hash: str


async def find_submission(
    session: AsyncSession, tenant: str, keys: Sequence[str], body_hash: str
) -> FoundSubmission | None:
    """Finds a response one of the keys already points to (an Idempotency-Key first)."""
    if not keys:
        return None
    rows = (
        await session.execute(
            select(SubmissionKey.key, SubmissionKey.response_id, SubmissionKey.body_hash).where(
                SubmissionKey.tenant == tenant, SubmissionKey.key.in_(keys)
            )
        )
    ).all()
    if not rows:
        return None
    row = min(rows, key=lambda r: (not r.key.startswith("k:"), r.key))
    return FoundSubmission(row.response_id, row.body_hash)


async def claim_submission_keys(
    session: AsyncSession,
    tenant: str,
    keys: Sequence[str],
    response_id: uuid.UUID,
    body_hash: str,
    now: datetime,
) -> FoundSubmission | None:
    """Claims the keys for a new response; returns the twin's submission when one was first.

    ON CONFLICT DO NOTHING waits for a concurrent twin's transaction on PostgreSQL (SQLite
    serializes writers), so two simultaneous identical posts store one response.
    """
    if not keys:
        return None
    stmt = (
        _insert(session, SubmissionKey)
        .values(
            [
                {
                    "tenant": tenant,
                    "key": k,
                    "response_id": response_id,
                    "body_hash": body_hash,
                    "created_at": now,
                }
                for k in keys
            ]
        )
        .on_conflict_do_nothing()
        .returning(SubmissionKey.key)
    )
    claimed = {row[0] for row in await session.execute(stmt)}
    lost = [k for k in keys if k not in claimed]
    if not lost:
        return None
    twin = await find_submission(session, tenant, lost, body_hash)
    if twin is not None and claimed:
        # Our other keys now lead to the first response too.
        await session.execute(
            update(SubmissionKey)
            .where(SubmissionKey.tenant == tenant, SubmissionKey.key.in_(claimed))
            .values(response_id=twin.response_id, body_hash=twin.body_hash)
        )
    return twin


async def get_response(session: AsyncSession, response_id: uuid.UUID) -> Response | None:
    """Gets a response by id."""
    return await session.get(Response, response_id)


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


async def record_guide(
    session: AsyncSession, *, registration_id: uuid.UUID, tenant: str, code: str
) -> None:
    """Records a registered participant as a guide (idempotent)."""
    stmt = _insert(session, Guide).values(registration_id=registration_id, tenant=tenant, code=code)
    await session.execute(stmt.on_conflict_do_nothing())


async def find_guide(session: AsyncSession, tenant: str, code: str) -> Guide | None:
    """Finds a tenant's guide by code, or by full registration id."""
    query = select(Guide).where(Guide.tenant == tenant)
    try:
        query = query.where(Guide.registration_id == uuid.UUID(code))
    except ValueError:
        query = query.where(Guide.code == code.upper())
    return await session.scalar(query.limit(1))


@dataclass(frozen=True, slots=True)
class ResponseFilter:
    """Which responses an operator lists or exports."""

    tenant: str
    start: date
    end: date
    unit: str | None = None
    gender: str | None = None
    education: str | None = None
    occupation: str | None = None
    service_type: str | None = None
    search: str | None = None


def _filtered(f: ResponseFilter) -> Any:
    query = select(Response).where(
        Response.tenant == f.tenant, Response.local_date.between(f.start, f.end)
    )
    for column, value in (
        (Response.unit, f.unit), (Response.gender, f.gender), (Response.education, f.education),
        (Response.occupation, f.occupation), (Response.service_type, f.service_type),
    ):  # fmt: skip
        if value is not None:
            query = query.where(column == value)
    if f.search:
        pattern = f"%{f.search.lower()}%"
        query = query.where(
            func.lower(func.coalesce(Response.name, "")).like(pattern)
            | func.lower(func.coalesce(Response.suggestion, "")).like(pattern)
            | func.lower(func.coalesce(Response.service_type, "")).like(pattern)
        )
    return query


async def list_responses(
    session: AsyncSession, f: ResponseFilter, *, limit: int | None, offset: int = 0
) -> tuple[list[Response], int]:
    """A page of responses, newest first, and how many match in all."""
    query = _filtered(f)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    page = query.order_by(Response.submitted_at.desc(), Response.id).offset(offset)
    if limit is not None:
        page = page.limit(limit)
    return list((await session.scalars(page)).all()), int(total or 0)


async def latest_suggestions(
    session: AsyncSession, tenant: str, unit: str | None, limit: int = 5
) -> list[tuple[str, date, str]]:
    """The newest saran/kritik texts (unit, local date, text): no names, no phones."""
    query = select(Response.unit, Response.local_date, Response.suggestion).where(
        Response.tenant == tenant, Response.suggestion.is_not(None)
    )
    if unit is not None:
        query = query.where(Response.unit == unit)
    rows = await session.execute(query.order_by(Response.submitted_at.desc()).limit(limit))
    return [(r.unit, r.local_date, r.suggestion) for r in rows]


async def add_ticket(session: AsyncSession, ticket: Ticket) -> None:
    """Adds a saran/kritik ticket."""
    session.add(ticket)


async def get_ticket(session: AsyncSession, tenant: str, ticket_id: uuid.UUID) -> Ticket | None:
    """A tenant's ticket, locked for the change that follows (PostgreSQL)."""
    return await session.scalar(
        select(Ticket).where(Ticket.tenant == tenant, Ticket.id == ticket_id).with_for_update()
    )


async def list_tickets(
    session: AsyncSession,
    tenant: str,
    *,
    status: str | None,
    unit: str | None,
    limit: int,
    offset: int,
) -> tuple[list[tuple[Ticket, Response]], int]:
    """A page of tickets with their responses, oldest open first, and the total."""
    query = (
        select(Ticket, Response)
        .join(Response, Response.id == Ticket.response_id)
        .where(Ticket.tenant == tenant)
    )
    if status is not None:
        query = query.where(Ticket.status == status)
    if unit is not None:
        query = query.where(Ticket.unit == unit)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.execute(query.order_by(Ticket.created_at).limit(limit).offset(offset))
    return [(t, r) for t, r in rows.tuples()], int(total or 0)


async def tickets_in_period(
    session: AsyncSession, tenant: str, unit: str | None, start: date, end: date
) -> list[tuple[str, datetime, datetime | None]]:
    """(status, created_at, replied_at) of the tickets of a period's responses."""
    query = select(Ticket.status, Ticket.created_at, Ticket.replied_at).where(
        Ticket.tenant == tenant, Ticket.local_date.between(start, end)
    )
    if unit is not None:
        query = query.where(Ticket.unit == unit)
    return [(s, c, r) for s, c, r in (await session.execute(query)).tuples()]


async def prune_device_keys(session: AsyncSession, before: datetime) -> int:
    """Deletes same-device keys older than `before` (Idempotency-Keys are kept)."""
    result: Any = await session.execute(
        delete(SubmissionKey).where(
            SubmissionKey.key.startswith("f:"), SubmissionKey.created_at < before
        )
    )
    return int(result.rowcount or 0)
