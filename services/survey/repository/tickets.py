"""Queries on saran/kritik tickets."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.survey.models import (
    Response,
    Ticket,
)


async def add_ticket(session: AsyncSession, ticket: Ticket) -> None:
    """Adds a saran/kritik ticket."""
    session.add(ticket)


async def get_ticket(session: AsyncSession, tenant: str, ticket_id: uuid.UUID) -> Ticket | None:
    """A tenant's ticket, locked for the change that follows (PostgreSQL)."""
    return await session.scalar(
        select(Ticket).where(Ticket.tenant == tenant, Ticket.id == ticket_id).with_for_update()
    )


async def ticket_with_response(
    session: AsyncSession, tenant: str, ticket_id: uuid.UUID
) -> tuple[Ticket, Response] | None:
    """A tenant's ticket with the response it came from (a read, nothing locked)."""
    row = (
        await session.execute(
            select(Ticket, Response)
            .join(Response, Response.id == Ticket.response_id)
            .where(Ticket.tenant == tenant, Ticket.id == ticket_id)
        )
    ).first()
    return None if row is None else (row[0], row[1])


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
