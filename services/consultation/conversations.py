"""Every inbound message, in order: moderation, off-topic, topic, automatic answer, routing.

One transaction per message (the consumer's); its event id derives from the provider's
message id, so a message delivered twice is handled once. Also the mentor's side: replies
and closing (with the citizen's 1-5 rating).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.consultation import (
    answers,
    assignment,
    batch_cache,
    inbox_repository,
    moderation,
    outbound,
)
from services.consultation import topics as topic_rules
from services.consultation.config import TenantConfig
from services.consultation.models import Contact, Conversation
from services.consultation.statuses import ConversationStatus
from shared.contracts import (
    ConversationClosedV1,
    Event,
    MessageModeratedV1,
    MessageReceivedV1,
)
from shared.dates import as_utc
from shared.logging import get_logger
from shared.problems import Problem

SOURCE = "consultation"
log = get_logger(__name__)


class ConversationNotFound(Problem):
    """No conversation with this id that the caller may see."""


class NotWithMentor(Problem):
    """Only a conversation a mentor is handling can be replied to."""


class ConversationAlreadyClosed(Problem):
    """A conversation is closed once."""


async def prefetch(session: AsyncSession, events: list[MessageReceivedV1], now: datetime) -> None:
    """Reads, for a batch, what every message of it needs (contacts, open conversations)."""
    await batch_cache.prefetch(
        session, [(e.tenant, e.phone, min(as_utc(e.received_at), now)) for e in events]
    )


async def handle_inbound(
    session: AsyncSession,
    config: TenantConfig,
    event: MessageReceivedV1,
    *,
    now: datetime,
    sla: timedelta,
) -> list[Event]:
    """Runs one inbound message through the pipeline; returns the events it causes."""
    # Meta's window runs from when the citizen sent the message, not from when we handled it.
    sent = min(as_utc(event.received_at), now)
    contact = await inbox_repository.touch_contact(session, config.code, event.phone, sent)
    category = moderation.moderate(event.text, config.word_lists)
    if category is not None:
        return [await _refuse(session, config, contact, category, event, now)]
    score = topic_rules.rating(event.text)
    if contact.rating_for is not None and score is not None:
        await _rate(session, config, contact, score, now)
        return []
    conv = await inbox_repository.open_conversation(session, config.code, event.phone)
    if conv is not None and conv.status in (ConversationStatus.QUEUED, ConversationStatus.ASSIGNED):
        conv.last_inbound_at = sent
        await _line_in(session, conv, event.text, now)
        return []
    topic = topic_rules.detect_topic(event.text)
    if conv is None:
        conv = await _start(session, config, event, topic or "Lainnya", now)
    else:
        conv.last_inbound_at = sent
    await _line_in(session, conv, event.text, now)
    if topic_rules.wants_mentor(event.text):
        return _some(await assignment.route(session, config, conv, now, sla))
    if topic is None:
        await outbound.say_in_conversation(session, config, conv, answers.OFF_TOPIC, now)
        return []
    conv.topic = topic
    chosen = answers.pick_requirements(event.text, topic, config.catalogue)
    if topic_rules.asks_requirements(event.text) and chosen:
        text = answers.requirement_answer(
            chosen, raw=config.raw, tenant_name=config.tenant.name, address=config.tenant.address
        )
        await outbound.say_in_conversation(session, config, conv, text, now)
        log.info("consultation.auto_answered", conversation_id=str(conv.id), topic=topic)
        return []
    return _some(await assignment.route(session, config, conv, now, sla))


def _some(event: Event | None) -> list[Event]:
    return [event] if event is not None else []


async def _start(
    session: AsyncSession, config: TenantConfig, event: MessageReceivedV1, topic: str, now: datetime
) -> Conversation:
    conv = Conversation(
        id=uuid.uuid4(),
        tenant=config.code,
        phone=event.phone,
        topic=topic,
        status=ConversationStatus.BOT,
        created_at=now,
        last_inbound_at=min(as_utc(event.received_at), now),
        reassignments=0,
        correlation_id=event.correlation_id,
    )
    session.add(conv)  # inserted with the next flush, with its lines after it
    cache = batch_cache.of(session)
    if cache is not None:  # the sender's next message in this batch finds it
        cache.conversations[(conv.tenant, conv.phone)] = conv
    return conv


async def _line_in(session: AsyncSession, conv: Conversation, text: str, now: datetime) -> None:
    await inbox_repository.add_line(
        session, conv.id, direction="in", author="citizen", body=text, at=now
    )


async def _refuse(
    session: AsyncSession,
    config: TenantConfig,
    contact: Contact,
    category: str,
    event: MessageReceivedV1,
    now: datetime,
) -> MessageModeratedV1:
    """Refuses politely quoting the rules; counts the offence; keeps no text."""
    contact.offences += 1
    contact.flagged = contact.flagged or contact.offences >= moderation.REPEAT_OFFENDER_AFTER
    await inbox_repository.add_moderation(session, config.code, category, now)
    text = moderation.refusal_text(category, config.rule_lines)
    await outbound.queue(
        session,
        config,
        to=contact.phone,
        body=text,
        kind="moderation",
        template_kind="notice",
        params=[text],
        now=now,
    )
    log.warning(
        "consultation.message_moderated",
        category=category,
        offences=contact.offences,
        repeat_offender=contact.flagged,
        provider_message_id=event.provider_message_id,
    )
    return MessageModeratedV1.caused_by(
        event, source=SOURCE, category=category, repeat_offender=contact.flagged
    )


async def _rate(
    session: AsyncSession, config: TenantConfig, contact: Contact, score: int, now: datetime
) -> None:
    conv = (
        await inbox_repository.get_conversation(session, contact.rating_for)
        if contact.rating_for
        else None
    )
    contact.rating_for = None
    if conv is None:
        return
    conv.rating = score
    await outbound.say_in_conversation(session, config, conv, answers.RATING_THANKS, now)
    log.info("consultation.conversation_rated", conversation_id=str(conv.id), rating=score)


async def reply(
    session: AsyncSession, config: TenantConfig, conv: Conversation, text: str, *, now: datetime
) -> None:
    """Sends a mentor's reply (free-form in the window, the reply template outside it)."""
    if conv.status != ConversationStatus.ASSIGNED:
        raise NotWithMentor()
    if conv.first_response_at is None:
        conv.first_response_at = now
    conv.sla_due_at = None
    await outbound.say_in_conversation(session, config, conv, text, now, author="mentor")


async def close(
    session: AsyncSession,
    config: TenantConfig,
    conv: Conversation,
    *,
    now: datetime,
    sla: timedelta,
) -> list[Event]:
    """Closes a conversation, asks for a 1-5 rating, frees the mentor and drains the queue."""
    if conv.status == ConversationStatus.CLOSED:
        raise ConversationAlreadyClosed()
    if conv.mentor_id is not None and conv.status == ConversationStatus.ASSIGNED:
        await inbox_repository.release_load(session, conv.mentor_id)
    conv.status, conv.closed_at, conv.sla_due_at = ConversationStatus.CLOSED, now, None
    contact = await inbox_repository.touch_contact(
        session, config.code, conv.phone, conv.last_inbound_at
    )
    contact.rating_for = conv.id
    await outbound.say_in_conversation(session, config, conv, answers.RATING_QUESTION, now)
    started = as_utc(conv.queued_at or conv.created_at)
    closed = ConversationClosedV1(
        tenant=conv.tenant,
        source=SOURCE,
        correlation_id=conv.correlation_id,
        conversation_id=conv.id,
        mentor_id=conv.mentor_id,
        topic=conv.topic,
        first_response_s=(as_utc(conv.first_response_at) - started).total_seconds()
        if conv.first_response_at
        else None,
        resolution_s=max(0.0, (now - started).total_seconds()),
    )
    log.info("consultation.conversation_closed", conversation_id=str(conv.id))
    return [closed, *await assignment.drain_queue(session, config, now, sla)]
