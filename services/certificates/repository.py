"""Every query of the certificates service."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.certificates.models import Certificate, CertificateCounter


async def add(session: AsyncSession, certificate: Certificate) -> None:
    """Adds a certificate and flushes it so the unique keys are checked now."""
    session.add(certificate)
    await session.flush()


async def get(
    session: AsyncSession, certificate_id: uuid.UUID, *, lock: bool = False
) -> Certificate | None:
    """Gets a certificate by id without its PDF; `lock` holds its row (PostgreSQL)."""
    query = select(Certificate).where(Certificate.id == certificate_id)
    if lock:
        query = query.with_for_update()
    return await session.scalar(query)


async def get_pdf(session: AsyncSession, certificate_id: uuid.UUID) -> bytes | None:
    """Gets only the PDF bytes of a certificate."""
    return await session.scalar(select(Certificate.pdf).where(Certificate.id == certificate_id))


async def find_by_registration(
    session: AsyncSession, registration_id: uuid.UUID
) -> Certificate | None:
    """Finds the certificate of a registration (there is at most one)."""
    return await session.scalar(
        select(Certificate).where(Certificate.registration_id == registration_id)
    )


async def list_certificates(
    session: AsyncSession,
    *,
    tenant: str | None,
    registration_id: uuid.UUID | None,
    limit: int,
    offset: int,
) -> list[Certificate]:
    """Lists certificates, newest first, by tenant and/or registration."""
    query = select(Certificate).order_by(Certificate.issued_at.desc(), Certificate.number.desc())
    if tenant is not None:
        query = query.where(Certificate.tenant == tenant)
    if registration_id is not None:
        query = query.where(Certificate.registration_id == registration_id)
    return list((await session.scalars(query.limit(limit).offset(offset))).all())


async def next_sequence(session: AsyncSession, tenant: str, year: int) -> int:
    """Takes the next number of a tenant's year; the row stays locked until commit.

    One atomic UPDATE ... RETURNING: on PostgreSQL it locks the counter row like
    SELECT ... FOR UPDATE; on SQLite it takes the write lock before reading, so two
    transactions never read the same last number (pysqlite starts a transaction only at
    the first write, so a SELECT-then-UPDATE could read a stale value there).
    """
    bump = (
        update(CertificateCounter)
        .where(CertificateCounter.tenant == tenant, CertificateCounter.year == year)
        .values(last_number=CertificateCounter.last_number + 1)
        .returning(CertificateCounter.last_number)
        .execution_options(synchronize_session=False)
    )
    value = await session.scalar(bump)
    if value is None:
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        await session.execute(
            insert(CertificateCounter)
            .values(tenant=tenant, year=year, last_number=0)
            .on_conflict_do_nothing()
        )
        value = await session.scalar(bump)
    assert value is not None
    return int(value)
