"""Queries on units, responses, resubmission keys and guides."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.survey.models import (
    Guide,
    Response,
    SubmissionKey,
    Unit,
)
from services.survey.repository.common import insert_for as _insert


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


async def prune_device_keys(session: AsyncSession, before: datetime) -> int:
    """Deletes same-device keys older than `before` (Idempotency-Keys are kept)."""
    result: Any = await session.execute(
        delete(SubmissionKey).where(
            SubmissionKey.key.startswith("f:"), SubmissionKey.created_at < before
        )
    )
    return int(result.rowcount or 0)
