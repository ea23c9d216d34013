"""What the webhook does with a verified payload, in one short transaction (no frameworks):
new messages go to the service's own stream through the outbox, statuses update the ledger."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.consultation import inbox_repository, message_requests, repository
from services.consultation.statuses import DeliveryStatus
from services.consultation.webhooks import Inbound, StatusUpdate
from shared.contracts import InvitationDeliveredV1, MessageReceivedV1
from shared.logging import get_logger
from shared.outbox import add_event

SOURCE = "consultation"
_EVENT_NS = uuid.UUID("6f1d3c52-9a0e-4c55-8d7e-3c2b1a0f9e11")
log = get_logger(__name__)


def event_id_for(gateway: str, provider_message_id: str) -> uuid.UUID:
    """The same provider message always gets the same event id (the idempotency key)."""
    return uuid.uuid5(_EVENT_NS, f"{gateway}:{provider_message_id}")


async def ingest(
    session: AsyncSession,
    *,
    gateway: str,
    tenant: str,
    messages: Sequence[Inbound],
    statuses: Sequence[StatusUpdate],
    now: datetime,
) -> int:
    """Publishes each new message once and applies status updates; returns messages taken."""
    taken = 0
    for message in messages:
        if not await inbox_repository.add_receipt(session, message.provider_message_id, now):
            log.info(
                "consultation.webhook_duplicate", provider_message_id=message.provider_message_id
            )
            continue
        event_id = event_id_for(gateway, message.provider_message_id)
        await add_event(
            session,
            MessageReceivedV1(
                event_id=event_id,
                tenant=tenant,
                source=SOURCE,
                correlation_id=f"wa-{event_id}",
                gateway=gateway,
                provider_message_id=message.provider_message_id,
                phone=message.phone,
                text=message.text,
                received_at=message.received_at,
            ),
        )
        taken += 1
    for status in statuses:
        await apply_status(session, status, gateway)
    return taken


_RANK: dict[str, int] = {s: rank for rank, s in enumerate(DeliveryStatus, start=1)}


async def apply_status(session: AsyncSession, update: StatusUpdate, gateway: str) -> None:
    """Records delivered / read / failed on the outbound message (never going backwards)."""
    message = await repository.find_by_provider_id(session, update.provider_message_id)
    if message is None:
        return
    if _RANK[update.status] <= _RANK.get(message.delivery_status or "", 0):
        return
    first_delivery = (
        update.status in (DeliveryStatus.DELIVERED, DeliveryStatus.READ)
        and message.delivered_at is None
    )
    message.delivery_status = update.status
    if first_delivery and message.invitation_id is not None:
        await _invitation_delivered(session, message.invitation_id, gateway)
    if update.status == DeliveryStatus.DELIVERED:
        message.delivered_at = update.at
    elif update.status == DeliveryStatus.READ:
        message.read_at = update.at
        message.delivered_at = message.delivered_at or update.at
    elif update.status == DeliveryStatus.FAILED:
        message.last_error = f"delivery failed code={update.error_code}"
    if update.status != DeliveryStatus.SENT:  # the send itself announced `sent`
        reason = message.last_error if update.status == DeliveryStatus.FAILED else None
        await message_requests.announce(session, message, update.status.value, reason=reason)
    log.info(
        "consultation.delivery_status",
        message_id=str(message.id),
        status=update.status,
        error_code=update.error_code,
    )


async def _invitation_delivered(
    session: AsyncSession, invitation_id: uuid.UUID, gateway: str
) -> None:
    invitation = await repository.get_invitation(session, invitation_id)
    if invitation is None:
        return
    await add_event(
        session,
        InvitationDeliveredV1(
            tenant=invitation.tenant,
            source=SOURCE,
            correlation_id=invitation.correlation_id,
            causation_id=invitation.source_event_id,
            invitation_id=invitation.id,
            registration_id=invitation.registration_id,
            gateway=gateway,
        ),
    )
