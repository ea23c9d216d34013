"""Group invitations: queued once per consenting registration, sent when a group exists."""

from __future__ import annotations

import secrets
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.consultation import inbox_repository, messages, outbound, repository
from services.consultation.config import TenantConfig
from services.consultation.models import Invitation, WhatsAppGroup
from services.consultation.statuses import InvitationStatus
from shared.contracts import ParticipantRegisteredV1, utcnow
from shared.logging import get_logger

KIND_GROUP_INVITATION = "group_invitation"
log = get_logger(__name__)


def click_url(public_url: str, click_token: str) -> str:
    """The service's own redirect link that records the click before sending to WhatsApp."""
    return f"{public_url.rstrip('/')}/i/{click_token}"


async def invite_participant(
    session: AsyncSession,
    event: ParticipantRegisteredV1,
    *,
    config: TenantConfig | None,
    public_url: str,
) -> Invitation | None:
    """Queues the group invitation of a consenting participant, once per registration.

    The invitation and its outbound message are written in the caller's transaction; the
    dispatcher sends the message and announces InvitationSentV1 when the gateway accepts it.
    """
    await _save_registrant(session, event)
    if not event.consent:
        log.info(
            "consultation.invitation_skipped",
            registration_id=str(event.registration_id),
            reason="no_consent",
        )
        return None
    existing = await repository.find_invitation_by_registration(session, event.registration_id)
    if existing is not None:
        return existing
    group = await repository.newest_active_group(session, event.tenant)
    invitation = _new_invitation(event, group)
    await repository.add(session, invitation)
    if group is None or config is None:
        log.warning(
            "consultation.invitation_no_group",
            invitation_id=str(invitation.id),
            registration_id=str(event.registration_id),
            tenant=event.tenant,
        )
        invitation.status = InvitationStatus.NO_GROUP
        return invitation
    await _queue_invitation(
        session,
        config,
        invitation,
        messages.first_name(event.name),
        event.activity_title,
        public_url,
    )
    return invitation


async def _save_registrant(session: AsyncSession, event: ParticipantRegisteredV1) -> None:
    # The phone and consent kept to reach the participant later (first write wins).
    await inbox_repository.save_registrant(
        session,
        registration_id=event.registration_id,
        tenant=event.tenant,
        # Without consent nothing is ever sent: keep no number and no name.
        phone=event.phone if event.consent else "",
        consent=event.consent,
        first_name=messages.first_name(event.name)[:100] if event.consent else "",
        activity_title=event.activity_title[:300],
        created_at=utcnow(),
    )


def _new_invitation(event: ParticipantRegisteredV1, group: WhatsAppGroup | None) -> Invitation:
    # Queued for the newest active group; without one it waits (no_group) for invite_waiting.
    return Invitation(
        id=uuid.uuid4(),
        tenant=event.tenant,
        registration_id=event.registration_id,
        group_id=group.id if group else None,
        phone=event.phone,
        status=InvitationStatus.QUEUED if group else InvitationStatus.NO_GROUP,
        click_token=secrets.token_urlsafe(16),
        created_at=utcnow(),
        correlation_id=event.correlation_id,
        source_event_id=str(event.event_id),
    )


async def _queue_invitation(
    session: AsyncSession,
    config: TenantConfig,
    invitation: Invitation,
    first_name: str,
    activity_title: str,
    public_url: str,
) -> None:
    link = click_url(public_url, invitation.click_token)
    body = messages.invitation_body(
        name=first_name,
        activity_title=activity_title,
        link=link,
        rules=config.tenant.consultation_rules,
        tenant_name=config.tenant.name,
    )
    message = await outbound.queue(
        session,
        config,
        to=invitation.phone,
        body=body,
        kind=KIND_GROUP_INVITATION,
        template_kind="invitation",
        params=[first_name or "Peserta", activity_title, link],
        now=utcnow(),
        invitation_id=invitation.id,
    )
    log.info(
        "consultation.invitation_queued",
        invitation_id=str(invitation.id),
        message_id=str(message.id),
        registration_id=str(invitation.registration_id),
        group_id=str(invitation.group_id),
        rule=message.rule,
    )


async def invite_waiting(
    session: AsyncSession, config: TenantConfig, group: WhatsAppGroup, public_url: str
) -> int:
    """Sends the invitations that waited for a group (status no_group) to this new group."""
    waiting = await repository.waiting_invitations(session, group.tenant)
    for invitation, registrant in waiting:
        invitation.group_id, invitation.status = group.id, InvitationStatus.QUEUED
        await _queue_invitation(
            session,
            config,
            invitation,
            registrant.first_name if registrant else "",
            registrant.activity_title if registrant else "",
            public_url,
        )
    return len(waiting)
