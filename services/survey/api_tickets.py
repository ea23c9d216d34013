"""Operator routes for saran/kritik tickets: list, reply (WhatsApp when consented), close."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

from services.survey import tickets
from services.survey.models import Response, Ticket
from services.survey.statuses import TicketStatus
from shared.logging import get_logger
from shared.web import CorrelationDep, OperatorDep, RuntimeDep, SessionDep, resolve_tenant

router = APIRouter(prefix="/api/v1/tickets", tags=["operator"])
log = get_logger(__name__)
TenantQuery = Annotated[str | None, Query(max_length=64)]


class TicketReply(BaseModel):
    """An operator's reply to a saran or kritik."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reply: StrictStr = Field(min_length=2, max_length=2000)
    close: StrictBool = False


def ticket_read(ticket: Ticket, response: Response | None = None) -> dict[str, Any]:
    """A ticket as the operator sees it (the phone is never shown here)."""
    body: dict[str, Any] = {
        "id": str(ticket.id), "unit": ticket.unit, "status": ticket.status,
        "local_date": ticket.local_date.isoformat(), "created_at": ticket.created_at.isoformat(),
        "reply": ticket.reply,
        "replied_at": ticket.replied_at.isoformat() if ticket.replied_at else None,
        "replied_by": ticket.replied_by, "reply_sent_by_whatsapp": ticket.reply_sent,
    }  # fmt: skip
    if response is not None:
        body["suggestion"] = response.suggestion
        body["can_reply_by_whatsapp"] = bool(response.phone and response.phone_consent)
    return body


@router.get("")
async def list_tickets(
    session: SessionDep,
    runtime: RuntimeDep,
    principal: OperatorDep,
    status: Annotated[TicketStatus | None, Query()] = None,
    unit: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
    tenant: TenantQuery = None,
) -> dict[str, Any]:
    """Lists saran/kritik tickets, oldest first, by status and unit."""
    found = resolve_tenant(runtime, principal, tenant)
    rows, total = await tickets.list_page(
        session, found.code, status=status, unit=unit, limit=limit, offset=offset
    )
    return {"total": total, "items": [ticket_read(t, r) for t, r in rows]}


@router.get("/{ticket_id}")
async def get_ticket(
    ticket_id: uuid.UUID,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: OperatorDep,
    tenant: TenantQuery = None,
) -> dict[str, Any]:
    """One ticket with its saran, whether a reply can go over WhatsApp (never the phone)."""
    found = resolve_tenant(runtime, principal, tenant)
    ticket, response = await tickets.ticket_detail(session, found, ticket_id)
    return ticket_read(ticket, response)


@router.post("/{ticket_id}/reply")
async def reply(
    ticket_id: uuid.UUID,
    data: TicketReply,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: OperatorDep,
    correlation_id: CorrelationDep,
    tenant: TenantQuery = None,
) -> dict[str, Any]:
    """Records a reply; sends it over WhatsApp (by event) when the respondent consented."""
    found = resolve_tenant(runtime, principal, tenant)
    ticket, sent = await tickets.reply_ticket(
        session, tenant=found, ticket_id=ticket_id, reply=data.reply, by=principal.subject,
        close=data.close, correlation_id=correlation_id,
    )  # fmt: skip
    log.info("survey.ticket_replied", ticket_id=str(ticket.id), whatsapp=sent)
    return ticket_read(ticket)


@router.post("/{ticket_id}/close")
async def close(
    ticket_id: uuid.UUID,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: OperatorDep,
    correlation_id: CorrelationDep,
    tenant: TenantQuery = None,
) -> dict[str, Any]:
    """Marks a ticket selesai (publishes TicketClosedV1 the first time)."""
    found = resolve_tenant(runtime, principal, tenant)
    ticket = await tickets.close_ticket(
        session, tenant=found, ticket_id=ticket_id, correlation_id=correlation_id
    )
    log.info("survey.ticket_closed", ticket_id=str(ticket.id))
    return ticket_read(ticket)
