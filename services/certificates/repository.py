"""Every query of the certificates service."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Row, Table, and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.certificates.models import (
    STATUS_VALID,
    Certificate,
    CertificateCounter,
    CertificateTemplate,
    Participant,
)
from shared.db import insert_for


async def add(session: AsyncSession, row: Any) -> None:
    """Adds a row and flushes it so the unique keys are checked now."""
    session.add(row)
    await session.flush()


async def get(
    session: AsyncSession, certificate_id: uuid.UUID, *, lock: bool = False
) -> Certificate | None:
    """Gets a certificate by id; `lock` holds its row (PostgreSQL)."""
    query = select(Certificate).where(Certificate.id == certificate_id)
    if lock:
        query = query.with_for_update()
    return await session.scalar(query)


async def find_by_registration(
    session: AsyncSession, registration_id: uuid.UUID, *, lock: bool = False
) -> Certificate | None:
    """Finds the certificate of a registration (there is at most one)."""
    query = select(Certificate).where(Certificate.registration_id == registration_id)
    if lock:
        query = query.with_for_update()
    return await session.scalar(query)


async def list_certificates(
    session: AsyncSession,
    *,
    tenant: str | None,
    registration_id: uuid.UUID | None,
    limit: int,
    offset: int,
) -> list[Certificate]:
    """Lists rendered certificates, newest first, by tenant and/or registration."""
    query = (
        select(Certificate)
        .where(Certificate.pdf_key.is_not(None))
        .order_by(Certificate.issued_at.desc(), Certificate.number.desc())
    )
    if tenant is not None:
        query = query.where(Certificate.tenant == tenant)
    if registration_id is not None:
        query = query.where(Certificate.registration_id == registration_id)
    return list((await session.scalars(query.limit(limit).offset(offset))).all())


async def next_sequence(session: AsyncSession, tenant: str, year: int, count: int = 1) -> int:
    """Takes the next `count` numbers of a tenant's year (returns the last); the row stays
    locked until commit.

    One atomic UPDATE ... RETURNING: on PostgreSQL it locks the counter row like
    SELECT ... FOR UPDATE; on SQLite it takes the write lock before reading. The lock is held
    only for step one (numbers + rows), never during a render.
    """
    bump = (
        update(CertificateCounter)
        .where(CertificateCounter.tenant == tenant, CertificateCounter.year == year)
        .values(last_number=CertificateCounter.last_number + count)
        .returning(CertificateCounter.last_number)
        .execution_options(synchronize_session=False)
    )
    value = await session.scalar(bump)
    if value is None:
        await session.execute(
            insert_for(session, CertificateCounter)
            .values(tenant=tenant, year=year, last_number=0)
            .on_conflict_do_nothing()
        )
        value = await session.scalar(bump)
    assert value is not None
    return int(value)


async def claim_renders(
    session: AsyncSession, *, owner: str, limit: int, now: datetime, lease_s: float
) -> list[Certificate]:
    """Leases up to `limit` certificates waiting for their PDF (replicas skip each other's)."""
    waiting = (
        select(Certificate.id)
        .where(
            Certificate.needs_render.is_(True),
            Certificate.status == STATUS_VALID,
            or_(Certificate.render_lease_until.is_(None), Certificate.render_lease_until < now),
        )
        .order_by(Certificate.issued_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    # Two statements: the rows are locked by the SELECT, then updated by primary key (one
    # UPDATE over a subquery lets the planner scan the whole table at province scale).
    ids = list((await session.scalars(waiting)).all())
    if not ids:
        return []
    claim = (
        update(Certificate)
        .where(Certificate.id.in_(ids))
        .values(
            render_lease_until=now + timedelta(seconds=lease_s),
            render_owner=owner,
            render_attempts=Certificate.render_attempts + 1,
        )
        .returning(Certificate)
        .execution_options(synchronize_session=False)
    )
    return list((await session.scalars(claim)).all())


async def finish(
    session: AsyncSession,
    done: list[tuple[uuid.UUID, int, str]],
    *,
    now: datetime,
) -> list[Row[uuid.UUID, str, str, str, uuid.UUID, str, str | None, bool]]:
    """Records stored PDFs, (id, generation the render was of, key) each, on rows still waiting
    for them; one statement per generation (usually one); returns the rows finished.

    A row stays waiting when a re-issue was asked for while its render ran (its generation
    moved on). The first time, `announced_at` is set (then `first` is true); afterwards the
    render is a re-issue and `reissued_at` is set. The UPDATE locks the rows like SELECT ... FOR
    UPDATE would, so two replicas finishing the same row announce it once.
    """
    by_generation: dict[int, dict[uuid.UUID, str]] = {}
    for certificate_id, generation, key in done:
        by_generation.setdefault(generation, {})[certificate_id] = key
    finished: list[Row[uuid.UUID, str, str, str, uuid.UUID, str, str | None, bool]] = []
    for generation, keys in by_generation.items():
        finished += (await session.execute(_finish_statement(generation, keys, now))).all()
    return finished


def _finish_statement(generation: int, keys: dict[uuid.UUID, str], now: datetime) -> Any:
    # Core columns, not the entity: no ORM bulk-update machinery on the finisher's hot path.
    table = cast(Table, Certificate.__table__)
    c = table.c
    stamp = func.coalesce(c.announced_at, now, type_=c.announced_at.type)
    key = next(iter(keys.values())) if len(keys) == 1 else case(keys, value=c.id)
    return (
        update(table)
        .where(c.id.in_(list(keys)), c.needs_render.is_(True))
        .values(
            pdf_key=key,
            rendered_at=now,
            render_lease_until=None,
            needs_render=c.generation != generation,
            announced_at=stamp,
            reissued_at=case((c.announced_at.is_not(None), now), else_=c.reissued_at),
        )
        .returning(
            c.id,
            c.tenant,
            c.number,
            c.status,
            c.registration_id,
            c.correlation_id,
            c.causation_id,
            (c.announced_at == c.rendered_at).label("first"),
        )
    )


async def release_leases_of(session: AsyncSession, owner: str) -> int:
    """Frees the leases an earlier run of this replica (same name) held when it stopped."""
    result = await session.execute(
        update(Certificate)
        .where(Certificate.render_owner == owner, Certificate.needs_render.is_(True))
        .values(render_lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def release_lease(
    session: AsyncSession, certificate_id: uuid.UUID, *, owner: str, retry_at: datetime
) -> None:
    """Gives back a failed render's lease so the row is retried at `retry_at`."""
    await session.execute(
        update(Certificate)
        .where(Certificate.id == certificate_id, Certificate.render_owner == owner)
        .values(render_lease_until=retry_at)
        .execution_options(synchronize_session=False)
    )


async def lock_participant(
    session: AsyncSession, *, registration_id: uuid.UUID, tenant: str, activity_id: uuid.UUID
) -> Participant:
    """Gets what the service knows of a registration, creating it first; the row is locked."""
    await session.execute(
        insert_for(session, Participant)
        .values(registration_id=registration_id, tenant=tenant, activity_id=activity_id)
        .on_conflict_do_nothing()
    )
    query = (
        select(Participant)
        .where(Participant.registration_id == registration_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    found = await session.scalar(query)
    assert found is not None
    return found


async def lock_participants(
    session: AsyncSession, keys: list[tuple[uuid.UUID, str, uuid.UUID]]
) -> dict[uuid.UUID, Participant]:
    """lock_participant for several registrations (registration id, tenant, activity id) in
    two statements; the rows are locked in registration order (no deadlock between batches)."""
    await session.execute(
        insert_for(session, Participant).on_conflict_do_nothing(),
        [{"registration_id": r, "tenant": t, "activity_id": a} for r, t, a in keys],
    )
    query = (
        select(Participant)
        .where(Participant.registration_id.in_({r for r, _t, _a in keys}))
        .order_by(Participant.registration_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {found.registration_id: found for found in await session.scalars(query)}


async def issued_registrations(
    session: AsyncSession, registration_ids: set[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of the registrations already have a certificate."""
    if not registration_ids:
        return set()
    rows = await session.scalars(
        select(Certificate.registration_id).where(Certificate.registration_id.in_(registration_ids))
    )
    return set(rows)


async def add_all(session: AsyncSession, rows: list[Any]) -> None:
    """Adds rows and flushes them (one batched INSERT) so the unique keys are checked now."""
    session.add_all(rows)
    await session.flush()


async def mark_for_reissue(
    session: AsyncSession,
    *,
    tenant: str,
    activity_id: uuid.UUID | None = None,
    certificate_id: uuid.UUID | None = None,
    activity_title: str | None = None,
) -> int:
    """Asks for new PDFs of valid certificates (one, or an event's); returns how many."""
    conditions = [Certificate.tenant == tenant, Certificate.status == STATUS_VALID]
    if activity_id is not None:
        conditions.append(Certificate.activity_id == activity_id)
    if certificate_id is not None:
        conditions.append(Certificate.id == certificate_id)
    values: dict[str, Any] = {
        "needs_render": True,
        "generation": Certificate.generation + 1,
        "render_lease_until": None,
    }
    if activity_title is not None:
        values["activity_title"] = activity_title
    result = await session.execute(
        update(Certificate)
        .where(and_(*conditions))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def render_progress(
    session: AsyncSession, *, tenant: str, activity_id: uuid.UUID | None
) -> dict[str, int]:
    """Counts an event's (or a tenant's) certificates: total, waiting for a PDF, revoked."""
    query = select(
        func.count(),
        func.count().filter(Certificate.needs_render.is_(True)),
        func.count().filter(Certificate.status != STATUS_VALID),
        func.count().filter(Certificate.reissued_at.is_not(None)),
    ).where(Certificate.tenant == tenant)
    if activity_id is not None:
        query = query.where(Certificate.activity_id == activity_id)
    total, waiting, revoked, reissued = (await session.execute(query)).one()
    return {"total": total, "waiting": waiting, "revoked": revoked, "reissued": reissued}


async def template(session: AsyncSession, tenant: str) -> CertificateTemplate | None:
    """A kecamatan's uploaded template, if any."""
    return await session.get(CertificateTemplate, tenant)


async def templates_of(session: AsyncSession, tenants: set[str]) -> dict[str, CertificateTemplate]:
    """The uploaded templates of several kecamatan, by code."""
    if not tenants:
        return {}
    rows = await session.scalars(
        select(CertificateTemplate).where(CertificateTemplate.tenant.in_(tenants))
    )
    return {row.tenant: row for row in rows}


async def delete_template(session: AsyncSession, tenant: str) -> bool:
    """Removes a kecamatan's uploaded template; tells whether there was one."""
    found = await session.get(CertificateTemplate, tenant)
    if found is None:
        return False
    await session.delete(found)
    return True
