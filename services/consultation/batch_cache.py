"""What a batch of inbound messages reads once for all of them (one transaction, one cache).

A burst of messages is handled in one transaction. Instead of touching each sender's contact,
looking up each sender's open conversation, the tenant's mentors and each mentor's contact
message by message (a round trip each), the batch does each once for every message, up front:
a multi-row contact upsert, one conversation query, one mentor query per tenant. The queries
in inbox_repository read this cache first and fall back to the database when there is none
(a single message, the API), so behaviour is the same either way. The cache lives in the
session's `info`, so it ends with the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.consultation.models import Contact, Conversation, Mentor
from services.consultation.statuses import OPEN_CONVERSATION
from shared.db import insert_for

KEY = "consultation_inbound_batch"
OPEN = OPEN_CONVERSATION
Key = tuple[str, str]  # tenant, phone


@dataclass
class BatchCache:
    """Rows read once per batch; objects held here stay in the session's identity map."""

    touched: set[Key] = field(default_factory=set)
    contacts: dict[Key, Contact | None] = field(default_factory=dict)
    conversations: dict[Key, Conversation | None] = field(default_factory=dict)
    mentors: dict[str, list[Mentor]] = field(default_factory=dict)


def of(session: AsyncSession) -> BatchCache | None:
    """The batch cache of this transaction, if it handles a batch."""
    cache = session.info.get(KEY)
    return cache if isinstance(cache, BatchCache) else None


def contacts_upsert(session: AsyncSession, rows: list[dict[str, Any]]) -> Any:
    """INSERT ... ON CONFLICT for contacts, RETURNING them: a window start never goes back."""
    insert = insert_for(session, Contact).values(rows)
    later = case(
        (
            Contact.last_inbound_at < insert.excluded.last_inbound_at,
            insert.excluded.last_inbound_at,
        ),
        else_=Contact.last_inbound_at,
    )
    return insert.on_conflict_do_update(
        index_elements=[Contact.tenant, Contact.phone], set_={"last_inbound_at": later}
    ).returning(Contact)


async def prefetch(session: AsyncSession, senders: Iterable[tuple[str, str, datetime]]) -> None:
    """Touches every sender's contact and reads their open conversations, in two statements."""
    latest: dict[Key, datetime] = {}
    for tenant, phone, at in senders:
        key = (tenant, phone)
        latest[key] = max(latest.get(key, at), at)
    if not latest:
        return
    cache = BatchCache()
    session.info[KEY] = cache
    rows = [
        {"tenant": t, "phone": p, "last_inbound_at": at, "offences": 0, "flagged": False}
        for (t, p), at in latest.items()
    ]
    statement = contacts_upsert(session, rows)
    options = {"populate_existing": True}
    for contact in await session.scalars(statement, execution_options=options):
        cache.contacts[(contact.tenant, contact.phone)] = contact
    cache.touched.update(latest)
    await _open_conversations(session, cache, latest)


async def _open_conversations(
    session: AsyncSession, cache: BatchCache, keys: Iterable[Key]
) -> None:
    wanted = set(keys)
    cache.conversations.update(dict.fromkeys(wanted))
    query = (
        select(Conversation)
        .where(Conversation.phone.in_({phone for _t, phone in wanted}))
        .where(Conversation.status.in_(OPEN))
        .order_by(Conversation.created_at)  # the newest last: it wins below
        .with_for_update()
    )
    for conv in await session.scalars(query):
        if (conv.tenant, conv.phone) in wanted:
            cache.conversations[(conv.tenant, conv.phone)] = conv


async def mentors(session: AsyncSession, cache: BatchCache, tenant: str) -> list[Mentor]:
    """The tenant's mentors, and their contacts (for the window rule), once per batch."""
    if tenant in cache.mentors:
        return cache.mentors[tenant]
    found = list(
        (
            await session.scalars(
                select(Mentor).where(Mentor.tenant == tenant).order_by(Mentor.tenant, Mentor.name)
            )
        ).all()
    )
    cache.mentors[tenant] = found
    phones = {m.phone for m in found} - {p for t, p in cache.contacts if t == tenant}
    if phones:
        query = select(Contact).where(Contact.tenant == tenant, Contact.phone.in_(phones))
        known = {c.phone: c for c in await session.scalars(query)}
        for phone in phones:
            cache.contacts[(tenant, phone)] = known.get(phone)
    return found
