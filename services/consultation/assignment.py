"""Assigning conversations to mentors: routing, the queue, SLA reassignment, releasing.

The choice of mentor is the pure rule in routing.py; the place is taken with a conditional
UPDATE on the mentor's load counter (a row lock), so replicas route in parallel safely.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from services.consultation import answers, batch_cache, inbox_repository, outbound, routing
from services.consultation.config import TenantConfig
from services.consultation.models import Conversation, Mentor
from services.consultation.statuses import ConversationStatus
from shared.contracts import ConversationAssignedV1
from shared.dates import as_utc
from shared.logging import get_logger
from shared.tenants import Tenant

SOURCE = "consultation"
log = get_logger(__name__)


def slots_of(mentor: Mentor) -> list[routing.Slot]:
    """The mentor's weekly rota slots."""
    return [parse_slot(s) for s in json.loads(mentor.rota or "[]")]


def parse_slot(data: dict[str, object]) -> routing.Slot:
    """Builds a Slot from its stored form {day, start: 'HH:MM', end: 'HH:MM' or '24:00'}."""
    from datetime import time

    def hhmm(text: object) -> time:
        hour, minute = str(text).split(":")
        return time(int(hour), int(minute))

    end = str(data["end"])
    return routing.Slot(
        day=int(str(data["day"])),
        start=hhmm(data["start"]),
        end=None if end == "24:00" else hhmm(end),
    )


def load_of(mentor: Mentor, now: datetime, tz: str) -> routing.MentorLoad:
    """What routing needs of a mentor at `now`."""
    return routing.MentorLoad(
        id=str(mentor.id),
        topics=frozenset(json.loads(mentor.topics)),
        capacity=mentor.capacity,
        open_count=mentor.open_count,
        on_duty=routing.on_duty(mentor.duty, slots_of(mentor), now, tz),
        last_assigned_at=as_utc(mentor.last_assigned_at) if mentor.last_assigned_at else None,
    )


class Roster(Protocol):
    """Where routing finds a kecamatan's mentors and takes a place with one of them."""

    async def mentors(self, tenant: str) -> Sequence[Mentor]:
        """The kecamatan's mentors as they stand."""
        ...

    async def take_place(self, mentor: Mentor, now: datetime) -> bool:
        """Adds one open conversation unless the mentor is full by now (a lost race: False)."""
        ...


class SqlRoster:
    """The roster in the database: the batch's cached mentors, a conditional UPDATE per place."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def mentors(self, tenant: str) -> Sequence[Mentor]:
        cache = batch_cache.of(self.session)
        if cache is not None:
            return await batch_cache.mentors(self.session, cache, tenant)
        return await inbox_repository.list_mentors(self.session, tenant)

    async def take_place(self, mentor: Mentor, now: datetime) -> bool:
        load = await inbox_repository.take_load(self.session, mentor.id, now)
        if load is None:
            return False
        set_committed_value(mentor, "open_count", load)
        set_committed_value(mentor, "last_assigned_at", now)
        return True


async def choose_mentor(
    roster: Roster, tenant: Tenant, topic: str, now: datetime, *, exclude: str = ""
) -> Mentor | None:
    """Takes a place with the best free on-duty mentor for a topic, or None when all are full.

    A mentor filled by another replica in the meantime is passed over for the next best.
    """
    mentors = {str(m.id): m for m in await roster.mentors(tenant.code)}
    loads = [load_of(m, now, tenant.timezone) for m in mentors.values()]
    for candidate in routing.candidates(loads, topic, frozenset({exclude} - {""})):
        if await roster.take_place(mentors[candidate.id], now):
            return mentors[candidate.id]
    return None


async def take_a_mentor(
    session: AsyncSession, config: TenantConfig, topic: str, now: datetime, *, exclude: str = ""
) -> Mentor | None:
    """choose_mentor on the database's roster.

    Nothing pending is flushed on the way (no autoflush): the conversation's changes go out in
    one statement with the rest of the transaction.
    """
    with session.no_autoflush:
        return await choose_mentor(SqlRoster(session), config.tenant, topic, now, exclude=exclude)


async def route(
    session: AsyncSession, config: TenantConfig, conv: Conversation, now: datetime, sla: timedelta
) -> ConversationAssignedV1 | None:
    """Gives the conversation to a mentor, or queues it and tells the citizen their place."""
    if conv.queued_at is None:
        conv.queued_at = now
    mentor = await take_a_mentor(session, config, conv.topic, now)
    if mentor is not None:
        return await _assign(session, config, conv, mentor, now, sla, reassigned=False)
    first_time = conv.status != ConversationStatus.QUEUED
    conv.status = ConversationStatus.QUEUED
    await session.flush()
    if first_time:
        position = await inbox_repository.queue_position(session, conv)
        await outbound.say_in_conversation(
            session, config, conv, answers.queued_text(position), now
        )
    log.info("consultation.conversation_queued", conversation_id=str(conv.id), topic=conv.topic)
    return None


async def _assign(
    session: AsyncSession,
    config: TenantConfig,
    conv: Conversation,
    mentor: Mentor,
    now: datetime,
    sla: timedelta,
    *,
    reassigned: bool,
) -> ConversationAssignedV1:
    conv.status, conv.mentor_id = ConversationStatus.ASSIGNED, mentor.id
    conv.assigned_at, conv.sla_due_at = now, now + sla
    text = answers.reassigned_text if reassigned else answers.assigned_text
    await outbound.say_in_conversation(session, config, conv, text(mentor.name), now)
    await outbound.queue(
        session,
        config,
        to=mentor.phone,
        body=answers.mentor_notice(conv.topic, reassigned=reassigned),
        kind="mentor_notice",
        template_kind="notice",
        params=[answers.mentor_notice(conv.topic, reassigned=reassigned)],
        now=now,
        conversation_id=conv.id,
    )
    queued_at = as_utc(conv.queued_at) if conv.queued_at else now
    log.info(
        "consultation.conversation_assigned",
        conversation_id=str(conv.id),
        mentor_id=str(mentor.id),
        topic=conv.topic,
        reassigned=reassigned,
    )
    return ConversationAssignedV1(
        tenant=conv.tenant,
        source=SOURCE,
        correlation_id=conv.correlation_id,
        conversation_id=conv.id,
        mentor_id=mentor.id,
        topic=conv.topic,
        reassigned=reassigned,
        waited_s=max(0.0, (now - queued_at).total_seconds()),
    )


async def drain_queue(
    session: AsyncSession, config: TenantConfig, now: datetime, sla: timedelta, limit: int = 20
) -> list[ConversationAssignedV1]:
    """Assigns queued conversations, oldest first, while mentors have room."""
    events = []
    for conv in await inbox_repository.queued(session, config.code, limit):
        mentor = await take_a_mentor(session, config, conv.topic, now)
        if mentor is None:
            continue
        events.append(await _assign(session, config, conv, mentor, now, sla, reassigned=False))
    return events


async def reassign_overdue(
    session: AsyncSession, configs: dict[str, TenantConfig], now: datetime, sla: timedelta
) -> list[ConversationAssignedV1]:
    """Moves conversations whose mentor did not reply in time; the old mentor is told.

    With nobody else free, the conversation stays with its mentor (never without an owner)
    and is looked at again after another SLA period.
    """
    events = []
    for conv in await inbox_repository.overdue(session, now, limit=50):
        config = configs.get(conv.tenant)
        if config is None or conv.mentor_id is None:
            continue
        previous = await inbox_repository.get_mentor(session, conv.mentor_id)
        mentor = await take_a_mentor(session, config, conv.topic, now, exclude=str(conv.mentor_id))
        if mentor is None:
            conv.sla_due_at = now + sla
            log.warning("consultation.sla_breached_nobody_free", conversation_id=str(conv.id))
            continue
        await inbox_repository.release_load(session, conv.mentor_id)
        conv.reassignments += 1
        if previous is not None:
            await outbound.queue(
                session,
                config,
                to=previous.phone,
                body=answers.taken_away_notice(conv.topic),
                kind="mentor_notice",
                template_kind="notice",
                params=[answers.taken_away_notice(conv.topic)],
                now=now,
                conversation_id=conv.id,
            )
        events.append(await _assign(session, config, conv, mentor, now, sla, reassigned=True))
    return events
