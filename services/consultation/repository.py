"""Every query of the consultation service."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.consultation.models import (
    DevMessage,
    Invitation,
    Mentor,
    OutboundMessage,
    Registrant,
    WhatsAppGroup,
    outbound_totals,
)
from services.consultation.statuses import InvitationStatus, SendStatus
from shared.dates import as_utc
from shared.db import insert_for

Row = WhatsAppGroup | Invitation | OutboundMessage | DevMessage | Mentor


async def add(session: AsyncSession, *rows: Row) -> None:
    """Adds rows and flushes them so constraint violations surface now."""
    session.add_all(rows)
    await session.flush()


# --- groups -----------------------------------------------------------------------------------


async def seed_group(
    session: AsyncSession, *, tenant: str, name: str, invite_link: str, now: datetime
) -> None:
    """Inserts a group from the tenant file unless it (or its link) exists; renames it if seen.

    INSERT .. ON CONFLICT DO NOTHING makes concurrent replicas starting together safe.
    """
    values = {
        "id": uuid.uuid4(),
        "tenant": tenant,
        "name": name,
        "invite_link": invite_link,
        "seed_link": invite_link,
        "active": True,
        "created_at": now,
    }
    await session.execute(
        insert_for(session, WhatsAppGroup).values(**values).on_conflict_do_nothing()
    )
    await session.execute(
        update(WhatsAppGroup)
        .where(
            WhatsAppGroup.tenant == tenant,
            WhatsAppGroup.seed_link == invite_link,
            WhatsAppGroup.name != name,
        )
        .values(name=name)
    )


async def get_group(session: AsyncSession, group_id: uuid.UUID) -> WhatsAppGroup | None:
    """Gets a group by its id."""
    return await session.get(WhatsAppGroup, group_id)


async def find_group_by_link(
    session: AsyncSession, tenant: str, invite_link: str
) -> WhatsAppGroup | None:
    """Finds a tenant's group by its current invite link."""
    return await session.scalar(
        select(WhatsAppGroup).where(
            WhatsAppGroup.tenant == tenant, WhatsAppGroup.invite_link == invite_link
        )
    )


async def list_groups(session: AsyncSession, tenant: str | None) -> list[WhatsAppGroup]:
    """Lists groups, oldest first, optionally of one tenant."""
    query = select(WhatsAppGroup).order_by(WhatsAppGroup.tenant, WhatsAppGroup.created_at)
    if tenant is not None:
        query = query.where(WhatsAppGroup.tenant == tenant)
    return list((await session.scalars(query)).all())


async def newest_active_group(session: AsyncSession, tenant: str) -> WhatsAppGroup | None:
    """Gets the tenant's most recently added active group."""
    return await session.scalar(
        select(WhatsAppGroup)
        .where(WhatsAppGroup.tenant == tenant, WhatsAppGroup.active.is_(True))
        .order_by(WhatsAppGroup.created_at.desc(), WhatsAppGroup.id)
        .limit(1)
    )


# --- invitations ------------------------------------------------------------------------------


async def find_invitation_by_registration(
    session: AsyncSession, registration_id: uuid.UUID
) -> Invitation | None:
    """Finds the invitation of a registration."""
    return await session.scalar(
        select(Invitation).where(Invitation.registration_id == registration_id)
    )


async def get_invitation(session: AsyncSession, invitation_id: uuid.UUID) -> Invitation | None:
    """Gets an invitation by its id."""
    return await session.get(Invitation, invitation_id)


async def record_first_click(session: AsyncSession, click_token: str, now: datetime) -> bool:
    """Stamps the invitation's first click (later clicks keep the first time); True if first."""
    result = await session.execute(
        update(Invitation)
        .where(Invitation.click_token == click_token, Invitation.clicked_at.is_(None))
        .values(clicked_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def click_target(
    session: AsyncSession, click_token: str
) -> tuple[Invitation, WhatsAppGroup | None] | None:
    """Gets an invitation by its click token with its group (None when the token is unknown)."""
    row = (
        await session.execute(
            select(Invitation, WhatsAppGroup)
            .outerjoin(WhatsAppGroup, WhatsAppGroup.id == Invitation.group_id)
            .where(Invitation.click_token == click_token)
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def list_invitations(
    session: AsyncSession, *, tenant: str | None, registration_id: uuid.UUID | None, limit: int
) -> list[tuple[Invitation, str | None]]:
    """Lists invitations with their group's name, newest first."""
    query = (
        select(Invitation, WhatsAppGroup.name)
        .outerjoin(WhatsAppGroup, WhatsAppGroup.id == Invitation.group_id)
        .order_by(Invitation.created_at.desc())
        .limit(limit)
    )
    if tenant is not None:
        query = query.where(Invitation.tenant == tenant)
    if registration_id is not None:
        query = query.where(Invitation.registration_id == registration_id)
    return [(row[0], row[1]) for row in (await session.execute(query)).all()]


async def waiting_invitations(
    session: AsyncSession, tenant: str
) -> list[tuple[Invitation, Registrant | None]]:
    """A tenant's invitations still waiting for a group, oldest first, locked."""
    rows = await session.execute(
        select(Invitation, Registrant)
        .outerjoin(Registrant, Registrant.registration_id == Invitation.registration_id)
        .where(Invitation.tenant == tenant, Invitation.status == InvitationStatus.NO_GROUP)
        .order_by(Invitation.created_at)
        .with_for_update(of=Invitation)
    )
    return [(row[0], row[1]) for row in rows.all()]


async def messages_of(
    session: AsyncSession, invitation_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, OutboundMessage]:
    """Returns the latest outbound message of each invitation."""
    if not invitation_ids:
        return {}
    rows = await session.scalars(
        select(OutboundMessage)
        .where(OutboundMessage.invitation_id.in_(invitation_ids))
        .order_by(OutboundMessage.created_at)
    )
    return {m.invitation_id: m for m in rows if m.invitation_id is not None}


# --- outbound queue ---------------------------------------------------------------------------


def _due(now: datetime, limit: int) -> Select[OutboundMessage]:
    return (
        select(OutboundMessage)
        .where(OutboundMessage.status == SendStatus.QUEUED, OutboundMessage.next_attempt_at <= now)
        .order_by(OutboundMessage.next_attempt_at, OutboundMessage.created_at)
        .limit(limit)
    )


async def claim_due_messages(
    session: AsyncSession, *, now: datetime, limit: int, lease_until: datetime
) -> list[OutboundMessage]:
    """Claims due queued messages in one statement: counts an attempt, hides them till the lease.

    UPDATE ... WHERE id IN (the due ones, FOR UPDATE SKIP LOCKED on PostgreSQL) RETURNING: each
    row goes to one replica; the repeated conditions keep the claim safe even without the lock.
    On PostgreSQL the due ones are a MATERIALIZED CTE, read once: as an IN (subquery) the planner
    re-ran the LIMIT ... SKIP LOCKED subquery and one claim took every due row, not `limit`.
    """
    due = _due(now, limit).with_only_columns(OutboundMessage.id)
    if session.get_bind().dialect.name == "postgresql":
        picked = due.with_for_update(skip_locked=True).cte("due").prefix_with("MATERIALIZED")
        ids = select(picked.c.id).scalar_subquery()
    else:
        ids = due.scalar_subquery()
    statement = (
        update(OutboundMessage)
        .where(
            OutboundMessage.id.in_(ids),
            OutboundMessage.status == SendStatus.QUEUED,
            OutboundMessage.next_attempt_at <= now,
        )
        .values(attempts=OutboundMessage.attempts + 1, next_attempt_at=lease_until)
        .returning(OutboundMessage)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    claimed = list((await session.scalars(statement)).all())
    return sorted(claimed, key=lambda m: (as_utc(m.created_at), str(m.id)))


async def get_message(session: AsyncSession, message_id: uuid.UUID) -> OutboundMessage | None:
    """Gets an outbound message by its id, locked for the update that follows (PostgreSQL)."""
    return await session.scalar(
        select(OutboundMessage).where(OutboundMessage.id == message_id).with_for_update()
    )


async def release(session: AsyncSession, message_id: uuid.UUID, until: datetime) -> None:
    """Gives a claimed message back unsent (a limit said wait): its attempt is not counted."""
    await session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id == message_id, OutboundMessage.status == SendStatus.QUEUED)
        .values(attempts=OutboundMessage.attempts - 1, next_attempt_at=until)
        .execution_options(synchronize_session=False)
    )


async def find_by_dedupe_key(session: AsyncSession, key: str) -> OutboundMessage | None:
    """Finds the message queued under a natural key (e.g. certificate:<id>)."""
    return await session.scalar(select(OutboundMessage).where(OutboundMessage.dedupe_key == key))


async def find_by_provider_id(
    session: AsyncSession, provider_message_id: str
) -> OutboundMessage | None:
    """Finds a sent message by the provider's id, locked for the status update."""
    return await session.scalar(
        select(OutboundMessage)
        .where(OutboundMessage.provider_message_id == provider_message_id)
        .with_for_update()
    )


# --- dev gateway ------------------------------------------------------------------------------


async def find_dev_message(session: AsyncSession, provider_message_id: str) -> DevMessage | None:
    """Finds a recorded dev message by its provider id."""
    return await session.scalar(
        select(DevMessage).where(DevMessage.provider_message_id == provider_message_id)
    )


async def add_dev_message(
    session: AsyncSession, *, to: str, body: str, provider_message_id: str, sent_at: datetime
) -> DevMessage:
    """Records a message the dev gateway 'sent'."""
    message = DevMessage(
        id=uuid.uuid4(), to=to, body=body, provider_message_id=provider_message_id, sent_at=sent_at
    )
    await add(session, message)
    return message


async def list_dev_messages(session: AsyncSession, limit: int = 200) -> list[DevMessage]:
    """Lists recorded dev messages, newest first."""
    return list(
        (
            await session.scalars(
                select(DevMessage).order_by(DevMessage.sent_at.desc()).limit(limit)
            )
        ).all()
    )


# --- metrics -----------------------------------------------------------------------------------


async def outbound_counts(session: AsyncSession, now: datetime) -> list[tuple[str, str, bool, int]]:
    """(tenant, status, due now, count) of the outbound queue, for the metrics scrape.

    Queued messages are counted live through ix_outbound_due (status leads); every other status
    comes from outbound_totals, which triggers keep exact: no read grows with sent messages.
    """
    due = OutboundMessage.next_attempt_at <= now
    live = (
        select(OutboundMessage.tenant, due, func.count())
        .where(OutboundMessage.status == SendStatus.QUEUED)
        .group_by(OutboundMessage.tenant, due)
    )
    rows = [
        (t, SendStatus.QUEUED.value, bool(d), int(n))
        for t, d, n in (await session.execute(live)).all()
    ]
    done = select(outbound_totals.c.tenant, outbound_totals.c.status, outbound_totals.c.count)
    done = done.where(outbound_totals.c.status != SendStatus.QUEUED, outbound_totals.c.count > 0)
    rows += [(t, s, False, int(n)) for t, s, n in (await session.execute(done)).all()]
    return rows
