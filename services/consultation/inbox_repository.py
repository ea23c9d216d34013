"""Every query about contacts, mentors, conversations and their messages."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.consultation import batch_cache
from services.consultation.models import (
    Contact,
    Conversation,
    ConversationMessage,
    InboundReceipt,
    Mentor,
    ModerationRecord,
    OutboundMessage,
    Registrant,
)
from services.consultation.statuses import OPEN_CONVERSATION, ConversationStatus, SendStatus
from shared.dates import as_utc
from shared.db import insert_for

OPEN = OPEN_CONVERSATION


# --- receipts, registrants, contacts ----------------------------------------------------------


# Built once per dialect and run with bound values: a webhook delivery builds no statement.
_ADD_RECEIPT = {
    name: insert_for(name, InboundReceipt.__table__).on_conflict_do_nothing()
    for name in ("postgresql", "sqlite")
}


async def add_receipt(session: AsyncSession, provider_message_id: str, now: datetime) -> bool:
    """Records a provider message id; False when it was seen before (a duplicate delivery)."""
    result = await session.execute(
        _ADD_RECEIPT[session.get_bind().dialect.name],
        {"provider_message_id": provider_message_id, "received_at": now},
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def save_registrant(session: AsyncSession, **values: Any) -> None:
    """Keeps a registration's phone and consent (first write wins)."""
    await session.execute(insert_for(session, Registrant).values(**values).on_conflict_do_nothing())


async def get_registrant(session: AsyncSession, registration_id: uuid.UUID) -> Registrant | None:
    """Gets a registrant by registration id."""
    return await session.get(Registrant, registration_id)


async def get_contact(session: AsyncSession, tenant: str, phone: str) -> Contact | None:
    """Gets a contact (a number that wrote in); flushes nothing pending on the way."""
    cache = batch_cache.of(session)
    if cache is not None and (tenant, phone) in cache.contacts:
        return cache.contacts[(tenant, phone)]
    with session.no_autoflush:
        return await session.get(Contact, (tenant, phone))


async def touch_contact(session: AsyncSession, tenant: str, phone: str, at: datetime) -> Contact:
    """Creates or refreshes a contact's window start in one statement; returns it.

    An upsert (the window start never goes backwards) with RETURNING: on PostgreSQL the row
    stays locked until the commit, as SELECT FOR UPDATE would. In a batch, the batch's upsert
    did it already.
    """
    cache = batch_cache.of(session)
    touched = cache.contacts.get((tenant, phone)) if cache is not None else None
    if cache is not None and touched is not None and (tenant, phone) in cache.touched:
        if as_utc(touched.last_inbound_at) < as_utc(at):
            touched.last_inbound_at = at
        return touched
    row = dict(tenant=tenant, phone=phone, last_inbound_at=at, offences=0, flagged=False)
    statement = batch_cache.contacts_upsert(session, [row])
    contact = await session.scalar(statement, execution_options={"populate_existing": True})
    assert contact is not None
    return contact


async def known_recipient(session: AsyncSession, phone: str) -> bool:
    """Tells whether a number wrote in or was sent a message before."""
    wrote = await session.scalar(
        select(func.count()).select_from(Contact).where(Contact.phone == phone)
    )
    if wrote:
        return True
    sent = await session.scalar(
        select(OutboundMessage.id)
        .where(OutboundMessage.to_phone == phone, OutboundMessage.status == SendStatus.SENT)
        .limit(1)
    )
    return sent is not None


async def add_moderation(session: AsyncSession, tenant: str, category: str, at: datetime) -> None:
    """Counts a refused message (category only)."""
    session.add(ModerationRecord(id=uuid.uuid4(), tenant=tenant, category=category, created_at=at))


# --- mentors ----------------------------------------------------------------------------------


async def list_mentors(session: AsyncSession, tenant: str | None) -> list[Mentor]:
    """Lists mentors, by name, optionally of one tenant."""
    query = select(Mentor).order_by(Mentor.tenant, Mentor.name)
    if tenant is not None:
        query = query.where(Mentor.tenant == tenant)
    return list((await session.scalars(query)).all())


async def get_mentor(session: AsyncSession, mentor_id: uuid.UUID) -> Mentor | None:
    """Gets a mentor by id."""
    return await session.get(Mentor, mentor_id)


async def take_load(session: AsyncSession, mentor_id: uuid.UUID, now: datetime) -> int | None:
    """Adds one open conversation to a mentor unless full; returns the new load (None: full).

    The conditional UPDATE locks the mentor's row, so two replicas routing at once can never
    both take the last free place.
    """
    result = await session.execute(
        update(Mentor)
        .where(Mentor.id == mentor_id, Mentor.open_count < Mentor.capacity)
        .values(open_count=Mentor.open_count + 1, last_assigned_at=now)
        .returning(Mentor.open_count)
        .execution_options(synchronize_session=False)
    )
    load = result.scalar()
    return int(load) if load is not None else None


async def release_load(session: AsyncSession, mentor_id: uuid.UUID) -> None:
    """Removes one open conversation from a mentor's load."""
    await session.execute(
        update(Mentor)
        .where(Mentor.id == mentor_id, Mentor.open_count > 0)
        .values(open_count=Mentor.open_count - 1)
        .execution_options(synchronize_session=False)
    )


# --- conversations ----------------------------------------------------------------------------


async def open_conversation(session: AsyncSession, tenant: str, phone: str) -> Conversation | None:
    """The number's open conversation (newest), locked for update (read once in a batch)."""
    cache = batch_cache.of(session)
    if cache is not None and (tenant, phone) in cache.conversations:
        return cache.conversations[(tenant, phone)]
    return await session.scalar(
        select(Conversation)
        .where(Conversation.tenant == tenant, Conversation.phone == phone)
        .where(Conversation.status.in_(OPEN))
        .order_by(Conversation.created_at.desc())
        .limit(1)
        .with_for_update()
    )


async def get_conversation(
    session: AsyncSession, conversation_id: uuid.UUID
) -> Conversation | None:
    """Gets a conversation by id, locked for update."""
    return await session.scalar(
        select(Conversation).where(Conversation.id == conversation_id).with_for_update()
    )


async def queue_position(session: AsyncSession, conversation: Conversation) -> int:
    """The conversation's place in its tenant's queue (1 = next)."""
    count = await session.scalar(
        select(func.count())
        .select_from(Conversation)
        .where(
            Conversation.tenant == conversation.tenant,
            Conversation.status == ConversationStatus.QUEUED,
        )
        .where(Conversation.queued_at <= conversation.queued_at)
    )
    return int(count or 1)


async def queued(session: AsyncSession, tenant: str, limit: int) -> list[Conversation]:
    """Queued conversations, oldest first, locked (others skip them: SKIP LOCKED)."""
    return list(
        (
            await session.scalars(
                select(Conversation)
                .where(
                    Conversation.tenant == tenant, Conversation.status == ConversationStatus.QUEUED
                )
                .order_by(Conversation.queued_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
    )


async def overdue(session: AsyncSession, now: datetime, limit: int) -> list[Conversation]:
    """Assigned conversations whose mentor has not replied by the SLA time, locked."""
    return list(
        (
            await session.scalars(
                select(Conversation)
                .where(
                    Conversation.status == ConversationStatus.ASSIGNED,
                    Conversation.sla_due_at <= now,
                )
                .where(Conversation.first_response_at.is_(None))
                .order_by(Conversation.sla_due_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
    )


async def list_conversations(
    session: AsyncSession, *, tenant: str | None, mentor_id: uuid.UUID | None, status: str | None
) -> list[tuple[Conversation, bool]]:
    """Conversations oldest waiting first, with the contact's repeat-offender flag."""
    query = (
        select(Conversation, Contact.flagged)
        .outerjoin(
            Contact, (Contact.tenant == Conversation.tenant) & (Contact.phone == Conversation.phone)
        )
        .order_by(func.coalesce(Conversation.queued_at, Conversation.created_at))
        .limit(500)
    )
    if tenant is not None:
        query = query.where(Conversation.tenant == tenant)
    if mentor_id is not None:
        query = query.where(Conversation.mentor_id == mentor_id)
    if status is not None:
        query = query.where(Conversation.status == status)
    else:
        query = query.where(Conversation.status.in_(OPEN))
    return [(row[0], bool(row[1])) for row in (await session.execute(query)).all()]


async def add_line(
    session: AsyncSession,
    conversation_id: uuid.UUID,
    *,
    direction: str,
    author: str,
    body: str,
    at: datetime,
) -> None:
    """Appends a message to a conversation's history (written with the next flush or commit).

    Lines written in one transaction share its `now`; a microsecond per line keeps their order.
    """
    order = session.info.get("line_order", 0) + 1
    session.info["line_order"] = order
    session.add(
        ConversationMessage(
            id=uuid.uuid4(),
            conversation_id=conversation_id,
            direction=direction,
            author=author,
            body=body,
            created_at=at + timedelta(microseconds=order),
        )
    )


async def history(session: AsyncSession, conversation_id: uuid.UUID) -> list[ConversationMessage]:
    """A conversation's messages, oldest first."""
    return list(
        (
            await session.scalars(
                select(ConversationMessage)
                .where(ConversationMessage.conversation_id == conversation_id)
                .order_by(ConversationMessage.created_at, ConversationMessage.id)
            )
        ).all()
    )


# --- metrics ----------------------------------------------------------------------------------


async def status_counts(session: AsyncSession, tenant: str | None) -> dict[str, int]:
    """Conversations per status."""
    query = select(Conversation.status, func.count()).group_by(Conversation.status)
    if tenant is not None:
        query = query.where(Conversation.tenant == tenant)
    return {str(s): int(n) for s, n in (await session.execute(query)).all()}


async def moderation_counts(session: AsyncSession, tenant: str | None) -> dict[str, int]:
    """Refused messages per category."""
    query = select(ModerationRecord.category, func.count()).group_by(ModerationRecord.category)
    if tenant is not None:
        query = query.where(ModerationRecord.tenant == tenant)
    return {str(c): int(n) for c, n in (await session.execute(query)).all()}


async def timed_conversations(session: AsyncSession, tenant: str | None) -> list[Conversation]:
    """Conversations that reached a mentor (for response and resolution times)."""
    query = select(Conversation).where(Conversation.assigned_at.is_not(None)).limit(10_000)
    if tenant is not None:
        query = query.where(Conversation.tenant == tenant)
    return list((await session.scalars(query)).all())
