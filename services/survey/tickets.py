"""Saran and kritik as tickets: baru -> ditanggapi -> selesai, replies over WhatsApp by event."""

from __future__ import annotations

import statistics
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.survey import repository
from services.survey.models import Response, Ticket
from services.survey.statuses import TicketStatus
from shared.contracts import (
    TicketClosedV1,
    TicketOpenedV1,
    TicketRepliedV1,
    WhatsAppMessageRequestedV1,
    utcnow,
)
from shared.dates import as_utc
from shared.outbox import add_event
from shared.problems import Problem
from shared.tenants import Tenant


class TicketNotFound(Problem):
    """No such ticket in the tenant."""


class TicketClosed(Problem):
    """A ticket already selesai takes no more replies."""


SOURCE = "survey"


async def open_ticket(session: AsyncSession, response: Response, correlation_id: str) -> None:
    """Every response with a saran or kritik becomes a ticket; TicketOpenedV1 goes with it."""
    if not response.suggestion:
        return
    ticket = Ticket(
        id=uuid.uuid4(), tenant=response.tenant, unit=response.unit,
        response_id=response.id, local_date=response.local_date,
        status=TicketStatus.BARU, created_at=utcnow(), reply_sent=False,
    )  # fmt: skip
    await repository.add_ticket(session, ticket)
    await add_event(session, TicketOpenedV1(
        tenant=ticket.tenant, source=SOURCE, correlation_id=correlation_id, ticket_id=ticket.id,
        response_id=response.id, unit=ticket.unit, opened_at=ticket.created_at,
    ))  # fmt: skip


def first_response_s(ticket: Ticket) -> float | None:
    """Seconds from the ticket's opening to its first reply; None while unanswered."""
    if ticket.replied_at is None:
        return None
    return (as_utc(ticket.replied_at) - as_utc(ticket.created_at)).total_seconds()


async def _announce_closed(session: AsyncSession, ticket: Ticket, correlation_id: str) -> None:
    """Queues TicketClosedV1 (no text, no phone) with the change that closed the ticket."""
    closed_at = ticket.closed_at or utcnow()
    await add_event(session, TicketClosedV1(
        tenant=ticket.tenant, source=SOURCE, correlation_id=correlation_id, ticket_id=ticket.id,
        unit=ticket.unit, closed_at=closed_at, first_response_s=first_response_s(ticket),
    ))  # fmt: skip


def reply_text(tenant: Tenant, unit_name: str, reply: str) -> str:
    """The WhatsApp text of a reply (Bahasa Indonesia)."""
    return (
        f"Terima kasih atas saran Anda untuk {unit_name}, {tenant.name}.\n\n"
        f"Tanggapan kami: {reply}\n\n(Pesan ini dikirim karena Anda bersedia dihubungi.)"
    )


async def reply_ticket(
    session: AsyncSession,
    *,
    tenant: Tenant,
    ticket_id: uuid.UUID,
    reply: str,
    by: str,
    close: bool,
    correlation_id: str,
) -> tuple[Ticket, bool]:
    """Records the operator's reply; asks for a WhatsApp message when the respondent consented.

    TicketRepliedV1 (and TicketClosedV1 when the reply closes) go out with the change.
    """
    ticket = await _ticket(session, tenant, ticket_id)
    if ticket.status == TicketStatus.SELESAI:
        raise TicketClosed()
    now = utcnow()
    ticket.reply, ticket.replied_at, ticket.replied_by = reply, ticket.replied_at or now, by
    ticket.status = TicketStatus.SELESAI if close else TicketStatus.DITANGGAPI
    if close:
        ticket.closed_at = now
    sent = await _send_reply(session, tenant, ticket, reply, correlation_id)
    await add_event(session, TicketRepliedV1(
        tenant=ticket.tenant, source=SOURCE, correlation_id=correlation_id, ticket_id=ticket.id,
        unit=ticket.unit, replied_at=now, first_response_s=first_response_s(ticket) or 0.0,
        closed=close, sent_by_whatsapp=sent,
    ))  # fmt: skip
    if close:
        await _announce_closed(session, ticket, correlation_id)
    return ticket, sent


async def _send_reply(
    session: AsyncSession, tenant: Tenant, ticket: Ticket, reply: str, correlation_id: str
) -> bool:
    """Queues the reply over WhatsApp when the respondent left a phone and consented."""
    response = await repository.get_response(session, ticket.response_id)
    if response is None or not response.phone or not response.phone_consent:
        return False
    unit = await repository.get_unit(session, tenant.code, ticket.unit)
    text = reply_text(tenant, unit.name if unit else ticket.unit, reply)
    await add_event(session, WhatsAppMessageRequestedV1(
        tenant=tenant.code, source=SOURCE, correlation_id=correlation_id,
        phone=response.phone, text=text, purpose="survey_reply", reference=str(ticket.id),
    ))  # fmt: skip
    ticket.reply_sent = True
    return True


async def close_ticket(
    session: AsyncSession, *, tenant: Tenant, ticket_id: uuid.UUID, correlation_id: str
) -> Ticket:
    """Marks a ticket selesai and queues TicketClosedV1; closing it again changes nothing."""
    ticket = await _ticket(session, tenant, ticket_id)
    if ticket.status != TicketStatus.SELESAI:
        ticket.status, ticket.closed_at = TicketStatus.SELESAI, utcnow()
        await _announce_closed(session, ticket, correlation_id)
    return ticket


async def _ticket(session: AsyncSession, tenant: Tenant, ticket_id: uuid.UUID) -> Ticket:
    ticket = await repository.get_ticket(session, tenant.code, ticket_id)
    if ticket is None:
        raise TicketNotFound()
    return ticket


def response_times(rows: list[tuple[str, datetime, datetime | None]]) -> dict[str, Any]:
    """Counts per status and hours from saran to first reply (median, mean, longest)."""
    hours = [
        (as_utc(replied) - as_utc(created)).total_seconds() / 3600
        for _s, created, replied in rows
        if replied is not None
    ]
    counts = {s.value: sum(1 for r in rows if r[0] == s) for s in TicketStatus}
    return {
        "tickets": len(rows), **counts,
        "median_hours_to_reply": round(statistics.median(hours), 1) if hours else None,
        "mean_hours_to_reply": round(statistics.fmean(hours), 1) if hours else None,
        "longest_hours_to_reply": round(max(hours), 1) if hours else None,
    }  # fmt: skip


async def period_response_times(
    session: AsyncSession, tenant: str, unit: str | None, start: date, end: date
) -> dict[str, Any]:
    """Response times of the tickets of a period."""
    return response_times(await repository.tickets_in_period(session, tenant, unit, start, end))


async def ticket_detail(
    session: AsyncSession, tenant: Tenant, ticket_id: uuid.UUID
) -> tuple[Ticket, Response]:
    """One ticket with its response, for the operator's ticket page."""
    found = await repository.ticket_with_response(session, tenant.code, ticket_id)
    if found is None:
        raise TicketNotFound()
    return found


async def list_page(
    session: AsyncSession,
    tenant: str,
    *,
    status: TicketStatus | None,
    unit: str | None,
    limit: int,
    offset: int,
) -> tuple[list[tuple[Ticket, Response]], int]:
    """A page of a tenant's tickets with their responses."""
    return await repository.list_tickets(
        session, tenant, status=status, unit=unit, limit=limit, offset=offset
    )
