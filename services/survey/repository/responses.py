"""Queries on units, responses, resubmission keys and guides."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import DateTime, String, Uuid, bindparam, delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.survey.models import (
    Guide,
    Response,
    SubmissionKey,
    Unit,
)
from shared.db import insert_for, mark_after_commit
from shared.outbox import OUTBOX_ROW_COLUMNS, add_outbox_rows


async def upsert_unit(session: AsyncSession, *, tenant: str, code: str, name: str) -> None:
    """Creates a unit or renames and reactivates it (safe when replicas start together)."""
    stmt = insert_for(session, Unit).values(tenant=tenant, code=code, name=name, active=True)
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
    return _best(rows) if rows else None


@dataclass(frozen=True, slots=True)
class Submitted:
    """What store_submission did: stored the response, or found a key already taken.

    `found` is the earlier submission a looked-up key points to, when the statement saw it
    (PostgreSQL); `claimed` are the keys this call took (some, when a twin took the others).
    """

    stored: bool
    found: FoundSubmission | None = None
    claimed: frozenset[str] = frozenset()


_RESPONSE_COLUMNS = tuple(c.name for c in Response.__table__.columns)
_PG_CASTS = {
    "id": "uuid", "submitted_at": "timestamptz", "local_date": "date", "scores": "json",
    "age": "integer", "phone_consent": "boolean", "suggestion": "text", "payload": "text",
    "created_at": "timestamptz", "attempts": "integer",
}  # fmt: skip


def _pg_values(columns: Sequence[str], prefix: str) -> str:
    return ", ".join(f"CAST(:{prefix}{c} AS {_PG_CASTS.get(c, 'varchar')})" for c in columns)


# PostgreSQL: the keys, the response and its outbox row in one statement (one round trip). The
# response and the event are written only when no looked-up key was taken and every key was
# claimed; a twin's transaction still in flight makes ON CONFLICT wait for it, as before.
_PG_STORE = text(  # the column names are the models' own (constants)
    f"""
WITH prior AS (
    SELECT key, response_id, body_hash FROM submission_keys
    WHERE tenant = CAST(:tenant AS varchar) AND key = ANY(CAST(:lookup AS varchar[]))
), claimed AS (
    INSERT INTO submission_keys (tenant, key, response_id, body_hash, created_at)
    SELECT CAST(:tenant AS varchar), k, CAST(:r_id AS uuid), CAST(:body_hash AS varchar),
        CAST(:now AS timestamptz)
    FROM unnest(CAST(:keys AS varchar[])) AS k
    WHERE NOT EXISTS (SELECT FROM prior)
    ON CONFLICT DO NOTHING
    RETURNING key
), stored AS (
    INSERT INTO responses ({", ".join(_RESPONSE_COLUMNS)})
    SELECT {_pg_values(_RESPONSE_COLUMNS, "r_")}
    WHERE NOT EXISTS (SELECT FROM prior)
        AND (SELECT count(*) FROM claimed) = CAST(:key_count AS integer)
    RETURNING id
), queued AS (
    INSERT INTO outbox ({", ".join(OUTBOX_ROW_COLUMNS)})
    SELECT {_pg_values(OUTBOX_ROW_COLUMNS, "o_")}
    WHERE EXISTS (SELECT FROM stored)
    RETURNING id
)
SELECT 'prior' AS what, key, response_id, body_hash FROM prior
UNION ALL SELECT 'claimed', key, NULL, NULL FROM claimed
UNION ALL SELECT 'stored', NULL, id, NULL FROM stored
UNION ALL SELECT 'queued', NULL, NULL, NULL FROM queued
"""  # noqa: S608
)
# SQLite (no INSERT in a WITH): the keys in one statement, then the response and the event.
_SQLITE_CLAIM = text(
    """
INSERT INTO submission_keys (tenant, key, response_id, body_hash, created_at)
SELECT :tenant, value, :response_id, :body_hash, :now FROM json_each(:keys)
WHERE NOT EXISTS (
    SELECT 1 FROM submission_keys
    WHERE tenant = :tenant AND key IN (SELECT value FROM json_each(:lookup))
)
ON CONFLICT DO NOTHING
RETURNING key
"""
).bindparams(
    bindparam("response_id", type_=Uuid()),
    bindparam("body_hash", type_=String()),
    bindparam("now", type_=DateTime(timezone=True)),
)
_INSERT_RESPONSE = insert(Response)


def _best(rows: Sequence[Any]) -> FoundSubmission:
    """The submission a resubmission collapses into: an Idempotency-Key's first, then by key."""
    row = min(rows, key=lambda r: (not r.key.startswith("k:"), r.key))
    return FoundSubmission(row.response_id, row.body_hash)


async def store_submission(
    session: AsyncSession,
    *,
    row: dict[str, Any],
    lookup: Sequence[str],
    keys: Sequence[str],
    body_hash: str,
    now: datetime,
    event: dict[str, Any],
) -> Submitted:
    """Stores a response (`row`), its submission keys and its outbox row (`event`), unless one
    of the `lookup` keys is taken already or a twin claims one of `keys` first.

    PostgreSQL does it in one statement, SQLite in three (keys, response, outbox row). Nothing
    but claimed keys is written when the response is not stored; the caller's transaction
    decides the rest (a refused resubmission rolls back).
    """
    if session.get_bind().dialect.name == "postgresql":
        params: dict[str, Any] = {
            "tenant": row["tenant"], "lookup": list(lookup), "keys": list(keys),
            "body_hash": body_hash, "now": now, "key_count": len(keys),
            **{f"r_{c}": row.get(c) for c in _RESPONSE_COLUMNS},
            **{f"o_{c}": event[c] for c in OUTBOX_ROW_COLUMNS},
        }  # fmt: skip
        params["r_scores"] = json.dumps(row["scores"])
        rows = (await session.execute(_PG_STORE, params)).all()
        prior = [r for r in rows if r.what == "prior"]
        claimed = frozenset(r.key for r in rows if r.what == "claimed")
        stored = any(r.what == "stored" for r in rows)
        if stored != any(r.what == "queued" for r in rows):  # cannot happen: one statement
            raise RuntimeError(f"response {row['id']} stored without its event")
        if stored:
            mark_after_commit(session)
        return Submitted(stored, _best(prior) if prior else None, claimed)
    claimed = frozenset()
    if keys:
        result = await session.execute(
            _SQLITE_CLAIM,
            {
                "tenant": row["tenant"], "keys": json.dumps(list(keys)),
                "lookup": json.dumps(list(lookup)), "response_id": row["id"],
                "body_hash": body_hash, "now": now,
            },
        )  # fmt: skip
        claimed = frozenset(r[0] for r in result)
        if len(claimed) < len(keys):
            return Submitted(False, None, claimed)
    await insert_response(session, row=row, event=event)
    return Submitted(True, None, claimed)


async def insert_response(
    session: AsyncSession, *, row: dict[str, Any], event: dict[str, Any]
) -> None:
    """Inserts a response and its outbox row (the event announcing it)."""
    await session.execute(_INSERT_RESPONSE, row)
    await add_outbox_rows(session, [event])


async def repoint_submission_keys(
    session: AsyncSession, tenant: str, keys: Sequence[str], to: FoundSubmission
) -> None:
    """Points keys at another submission (a twin's, that took the request's other keys)."""
    await session.execute(
        update(SubmissionKey)
        .where(SubmissionKey.tenant == tenant, SubmissionKey.key.in_(keys))
        .values(response_id=to.response_id, body_hash=to.body_hash)
    )


async def get_response(session: AsyncSession, response_id: uuid.UUID) -> Response | None:
    """Gets a response by id."""
    return await session.get(Response, response_id)


async def record_guide(
    session: AsyncSession, *, registration_id: uuid.UUID, tenant: str, code: str
) -> None:
    """Records a registered participant as a guide (idempotent)."""
    stmt = insert_for(session, Guide).values(
        registration_id=registration_id, tenant=tenant, code=code
    )
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
