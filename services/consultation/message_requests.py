"""Messages other services ask for (WhatsAppMessageRequestedV1), and what became of them.

A request is queued once (the consumer's effect-once mark, plus a natural key on the outbound
message), under the 24-hour rule like every other outbound message: free-form inside the
window, outside it the tenant's template named after the request's purpose (or `notice`).
The outbound queue sends it with its limits and retries; each outcome (sent, delivered, read,
failed) goes back to the requester as WhatsAppMessageStatusV1. No phone or text is logged.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.consultation import outbound, repository
from services.consultation.config import TenantConfig
from services.consultation.models import MessageRequest, OutboundMessage
from shared.contracts import WhatsAppMessageRequestedV1, WhatsAppMessageStatusV1
from shared.logging import get_logger
from shared.outbox import add_event
from shared.phone import normalize_phone

SOURCE = "consultation"
KIND = "requested"
FALLBACK_TEMPLATE = "notice"
log = get_logger(__name__)


def dedupe_key(request_id: uuid.UUID) -> str:
    """The outbound message's natural key for a request (the same request queues once)."""
    return f"request:{request_id}"


def recipient(event: WhatsAppMessageRequestedV1) -> tuple[str, str]:
    """The ordering key of requests: one recipient's messages are queued in the order asked."""
    try:
        return event.tenant, normalize_phone(event.phone)
    except ValueError:
        return event.tenant, event.phone  # refused anyway


def template_kind(config: TenantConfig, purpose: str) -> str:
    """The tenant's template for a purpose (e.g. survey_reply), else the general notice."""
    return purpose if purpose in config.templates else FALLBACK_TEMPLATE


async def queue_request(
    session: AsyncSession,
    config: TenantConfig | None,
    event: WhatsAppMessageRequestedV1,
    *,
    now: datetime,
) -> list[WhatsAppMessageStatusV1]:
    """Queues the requested message once; a request that can never be sent fails at once."""
    refused = _refusal(config, event)
    if refused is not None or config is None:
        log.warning("consultation.request_refused", reason=refused, **_ids(event))
        return [_failed_now(event, refused or "unknown_tenant")]
    key = dedupe_key(event.event_id)
    if await repository.find_by_dedupe_key(session, key) is not None:
        log.info("consultation.request_duplicate", **_ids(event))
        return []
    message = await outbound.queue(
        session,
        config,
        to=normalize_phone(event.phone),
        body=event.text,
        kind=KIND,
        template_kind=template_kind(config, event.purpose),
        params=[event.text],
        now=now,
        dedupe_key=key,
    )
    session.add(_request_row(message, event, now))
    await session.flush()
    log.info(
        "consultation.request_queued", message_id=str(message.id), rule=message.rule, **_ids(event)
    )
    return []


def _refusal(config: TenantConfig | None, event: WhatsAppMessageRequestedV1) -> str | None:
    if config is None:
        return "unknown_tenant"
    try:
        normalize_phone(event.phone)
    except ValueError:
        return "invalid_phone"
    if not event.text.strip():
        return "empty_text"
    return None


def _ids(event: WhatsAppMessageRequestedV1) -> dict[str, str]:
    return {"purpose": event.purpose, "reference": event.reference, "requested_by": event.source}


def _request_row(
    message: OutboundMessage, event: WhatsAppMessageRequestedV1, now: datetime
) -> MessageRequest:
    return MessageRequest(
        message_id=message.id,
        request_id=event.event_id,
        tenant=event.tenant,
        source=event.source,
        purpose=event.purpose[:64],
        reference=event.reference,
        correlation_id=event.correlation_id,
        created_at=now,
    )


def _failed_now(event: WhatsAppMessageRequestedV1, reason: str) -> WhatsAppMessageStatusV1:
    return WhatsAppMessageStatusV1.caused_by(
        event,
        source=SOURCE,
        request_event_id=event.event_id,
        purpose=event.purpose,
        reference=event.reference,
        status="failed",
        reason=reason,
    )


async def announce(
    session: AsyncSession, message: OutboundMessage, status: str, *, reason: str | None = None
) -> None:
    """Tells the requester what became of a requested message (nothing for other messages)."""
    if message.kind != KIND:
        return
    request = await session.get(MessageRequest, message.id)
    if request is None:
        return
    await add_event(
        session,
        WhatsAppMessageStatusV1(
            tenant=request.tenant,
            source=SOURCE,
            correlation_id=request.correlation_id,
            causation_id=str(request.request_id),
            request_event_id=request.request_id,
            purpose=request.purpose,
            reference=request.reference,
            status=status,
            rule=message.rule,
            reason=reason,
        ),
    )
    log.info(
        "consultation.request_status",
        message_id=str(message.id),
        status=status,
        purpose=request.purpose,
        reference=request.reference,
    )
