"""Queueing outbound WhatsApp messages under the 24-hour rule (no framework imports).

Inside the customer-service window that the recipient's last inbound message opened, a
message goes free-form (or as a document); outside it, the tenant's approved template for
that kind is used. Every queued message records the rule that applied.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from services.consultation import inbox_repository, repository
from services.consultation.config import TenantConfig
from services.consultation.gateway import SendRule
from services.consultation.models import Conversation, OutboundMessage
from services.consultation.statuses import SendStatus
from shared.contracts import utcnow
from shared.dates import as_utc
from shared.db import mark_after_commit
from shared.logging import get_logger

WINDOW = timedelta(hours=24)
_AT_COMMIT = "consultation_outbound_at_commit"
log = get_logger(__name__)


def window_open(last_inbound_at: datetime | None, now: datetime) -> bool:
    """Tells whether the 24-hour customer-service window is open at `now`."""
    return last_inbound_at is not None and now < as_utc(last_inbound_at) + WINDOW


def window_left_s(last_inbound_at: datetime | None, now: datetime) -> float:
    """Seconds left in the window (0 when closed)."""
    if last_inbound_at is None:
        return 0.0
    return max(0.0, (as_utc(last_inbound_at) + WINDOW - now).total_seconds())


async def say_in_conversation(
    session: AsyncSession,
    config: TenantConfig,
    conv: Conversation,
    text: str,
    now: datetime,
    *,
    author: str = "bot",
) -> None:
    """Writes an outgoing line in the conversation's inbox and queues it to the citizen: the
    bot's notices (the notice template outside the window), or a mentor's reply (the reply
    template)."""
    await inbox_repository.add_line(
        session, conv.id, direction="out", author=author, body=text, at=now
    )
    reply = author == "mentor"
    await queue(
        session,
        config,
        to=conv.phone,
        body=text,
        kind="reply" if reply else "bot",
        template_kind="reply" if reply else "notice",
        params=[text],
        now=now,
        conversation_id=conv.id,
    )


async def queue(
    session: AsyncSession,
    config: TenantConfig,
    *,
    to: str,
    body: str,
    kind: str,
    template_kind: str,
    params: Sequence[str],
    now: datetime,
    document_url: str | None = None,
    conversation_id: uuid.UUID | None = None,
    invitation_id: uuid.UUID | None = None,
    dedupe_key: str | None = None,
) -> OutboundMessage:
    """Queues one message under the window rule; the dispatcher sends it after the commit."""
    contact = await inbox_repository.get_contact(session, config.code, to)
    inside = window_open(contact.last_inbound_at if contact else None, now)
    rule, template = _send_rule(config, inside, template_kind, document_url)
    message = OutboundMessage(
        id=uuid.uuid4(),
        tenant=config.code,
        to_phone=to,
        body=body,
        kind=kind,
        invitation_id=invitation_id,
        conversation_id=conversation_id,
        status=SendStatus.QUEUED,
        attempts=0,
        next_attempt_at=utcnow(),  # due at once by the sender's real clock
        created_at=now,
        rule=rule.value,
        template=template,
        params=json.dumps(list(params)) if rule is SendRule.TEMPLATE else None,
        document_url=document_url if rule is SendRule.DOCUMENT else None,
        dedupe_key=dedupe_key,
    )
    if dedupe_key is None:
        insert_at_commit(session, message)
    else:
        await repository.add(session, message)  # a repeat of the natural key fails here
    mark_after_commit(session)  # wakes the dispatcher right after the commit
    return message


def _send_rule(
    config: TenantConfig, inside: bool, template_kind: str, document_url: str | None
) -> tuple[SendRule, str | None]:
    """Inside the 24-hour window free text (or a document); outside it the tenant's template."""
    if inside:
        return (SendRule.DOCUMENT if document_url else SendRule.FREE_FORM), None
    spec = config.templates.get(template_kind)
    if spec is None:
        log.warning("consultation.template_missing", tenant=config.code, kind=template_kind)
    return SendRule.TEMPLATE, spec.name if spec else None


def insert_at_commit(session: AsyncSession, message: OutboundMessage) -> None:
    """Writes a queued message as the transaction commits, with the transaction's other sends.

    On PostgreSQL each insert bumps the (tenant, queued) row of outbound_totals (migration
    0004's trigger), which stays locked until the commit; inserting last keeps that lock for
    the commit only, so the dispatcher marking messages sent never waits out a whole batch of
    inbound messages (and the batch never waits out the dispatcher).
    """
    session.info.setdefault(_AT_COMMIT, []).append(message)


@event.listens_for(Session, "before_commit")
def _insert_deferred(session: Session) -> None:
    pending = session.info.pop(_AT_COMMIT, None)
    if pending:
        session.add_all(pending)  # the commit's flush writes them in one statement


@event.listens_for(Session, "after_rollback")
def _drop_deferred(session: Session) -> None:
    session.info.pop(_AT_COMMIT, None)


def template_language(config: TenantConfig, template: str | None) -> str:
    """The language code of a template by its name (id when unknown)."""
    for spec in config.templates.values():
        if spec.name == template:
            return spec.language
    return "id"
