"""Consultation rules: groups and their links, clicks, the outbound queue's outcomes."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.consultation import message_requests, messages, repository
from services.consultation.models import OutboundMessage, WhatsAppGroup
from services.consultation.statuses import InvitationStatus, SendStatus
from shared.contracts import InvitationClickedV1, InvitationSentV1, utcnow
from shared.logging import get_logger
from shared.outbox import add_event
from shared.privacy import mask_text
from shared.problems import Problem
from shared.tenants import Tenant

SOURCE = "consultation"
log = get_logger(__name__)


class NotAnInviteLink(Problem):
    """An invite link that is not https://chat.whatsapp.com/..."""


class InviteLinkTaken(Problem):
    """Another group already uses this invite link."""


class GroupNotFound(Problem):
    """No WhatsApp group with this id."""


class InvitationUnknown(Problem):
    """A click on an invitation link nobody was sent."""


class InvitationGroupMissing(Problem):
    """An invitation whose group is not there (yet)."""


def check_invite_link(link: str) -> str:
    """Returns a cleaned WhatsApp invite link or raises NotAnInviteLink."""
    cleaned = link.strip()
    if not messages.is_invite_link(cleaned):
        raise NotAnInviteLink()
    return cleaned


# --- groups -----------------------------------------------------------------------------------


async def seed_groups(session: AsyncSession, tenants: dict[str, Tenant]) -> int:
    """Adds the groups listed in the tenant files (idempotent); returns how many it saw."""
    seen = 0
    for tenant in tenants.values():
        for seed in tenant.whatsapp_groups:
            link = seed.invite_link.strip()
            if not messages.is_invite_link(link):
                log.warning(
                    "consultation.group_seed_skipped",
                    tenant=tenant.code,
                    reason="invite_link is not https://chat.whatsapp.com/...",
                )
                continue
            await repository.seed_group(
                session, tenant=tenant.code, name=seed.name, invite_link=link, now=utcnow()
            )
            seen += 1
    return seen


async def create_group(
    session: AsyncSession, *, tenant: Tenant, name: str, invite_link: str
) -> WhatsAppGroup:
    """Adds an active group with its invite link (a mentor created the group on a phone)."""
    link = check_invite_link(invite_link)
    if await repository.find_group_by_link(session, tenant.code, link) is not None:
        raise InviteLinkTaken()
    group = WhatsAppGroup(
        id=uuid.uuid4(),
        tenant=tenant.code,
        name=name,
        invite_link=link,
        seed_link=None,
        active=True,
        created_at=utcnow(),
    )
    await repository.add(session, group)
    return group


async def get_group(session: AsyncSession, group_id: uuid.UUID) -> WhatsAppGroup:
    """Gets a group or raises GroupNotFound."""
    group = await repository.get_group(session, group_id)
    if group is None:
        raise GroupNotFound()
    return group


async def rotate_link(
    session: AsyncSession, group: WhatsAppGroup, invite_link: str
) -> WhatsAppGroup:
    """Replaces a group's invite link; invitations already sent then lead to the new one."""
    link = check_invite_link(invite_link)
    if link == group.invite_link:
        return group
    other = await repository.find_group_by_link(session, group.tenant, link)
    if other is not None:
        raise InviteLinkTaken()
    group.invite_link = link
    group.rotated_at = utcnow()
    await session.flush()
    return group


# --- invitations ------------------------------------------------------------------------------


async def record_click(session: AsyncSession, click_token: str, *, user_agent: str = "") -> str:
    """Records the first click of an invitation link; returns the group's current link.

    A link-preview fetch opens the same link but is not counted as the participant's click.
    """
    first = not messages.is_link_preview(user_agent) and await repository.record_first_click(
        session, click_token, utcnow()
    )
    target = await repository.click_target(session, click_token)
    if target is None:
        raise InvitationUnknown()
    invitation, group = target
    if group is None:
        raise InvitationGroupMissing()
    if first:
        await add_event(
            session,
            InvitationClickedV1(
                tenant=invitation.tenant,
                source=SOURCE,
                correlation_id=invitation.correlation_id,
                causation_id=invitation.source_event_id,
                invitation_id=invitation.id,
                registration_id=invitation.registration_id,
                group_id=group.id,
            ),
        )
    log.info(
        "consultation.invitation_clicked", invitation_id=str(invitation.id), group_id=str(group.id)
    )
    return group.invite_link


# --- outbound queue outcomes ------------------------------------------------------------------


async def claim_due(session: AsyncSession, *, limit: int, lease_s: float) -> list[OutboundMessage]:
    """Claims up to `limit` due messages for one send attempt each."""
    now = utcnow()
    return await repository.claim_due_messages(
        session, now=now, limit=limit, lease_until=now + timedelta(seconds=lease_s)
    )


async def mark_sent(
    session: AsyncSession, message_id: uuid.UUID, *, provider_message_id: str, gateway: str
) -> InvitationSentV1 | None:
    """Marks a message and its invitation sent; returns the event to announce (or None)."""
    message = await repository.get_message(session, message_id)
    if message is None or message.status != SendStatus.QUEUED:
        return None
    now = utcnow()
    message.status, message.sent_at = SendStatus.SENT, now
    message.provider_message_id, message.last_error = provider_message_id, None
    await message_requests.announce(session, message, "sent")
    invitation = (
        await repository.get_invitation(session, message.invitation_id)
        if message.invitation_id
        else None
    )
    if invitation is None or invitation.group_id is None:
        return None
    invitation.status, invitation.sent_at = InvitationStatus.SENT, now
    return InvitationSentV1(
        tenant=invitation.tenant,
        source=SOURCE,
        correlation_id=invitation.correlation_id,
        causation_id=invitation.source_event_id,
        invitation_id=invitation.id,
        registration_id=invitation.registration_id,
        group_id=invitation.group_id,
        gateway=gateway,
    )


async def mark_failed_attempt(
    session: AsyncSession,
    message_id: uuid.UUID,
    *,
    error: str,
    retryable: bool,
    max_attempts: int,
    backoff_base_s: float,
    backoff_max_s: float,
) -> OutboundMessage | None:
    """Schedules a retry with back-off, or fails the message (and its invitation) for good."""
    message = await repository.get_message(session, message_id)
    if message is None or message.status != SendStatus.QUEUED:
        return None
    message.last_error = mask_text(error)[:500]
    if retryable and message.attempts < max_attempts:
        delay = messages.backoff_s(message.attempts, base_s=backoff_base_s, max_s=backoff_max_s)
        message.next_attempt_at = utcnow() + timedelta(seconds=delay)
        return message
    message.status = SendStatus.FAILED
    await message_requests.announce(session, message, "failed", reason=message.last_error)
    if message.invitation_id:
        invitation = await repository.get_invitation(session, message.invitation_id)
        if invitation is not None:
            invitation.status = InvitationStatus.FAILED
    return message
