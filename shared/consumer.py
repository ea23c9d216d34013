"""The one way a service consumes a stream: at-least-once delivery, effect-once processing.

For every reaction (one consumer group) two faststream subscribers share the group:
- a reader (XREADGROUP '>', bounded by `read_batch`) for new messages;
- a claimer (XAUTOCLAIM with `min_idle_time`) that picks up messages left pending by a
  handler that raised or a process that died; faststream never redelivers those by itself.
Each message is handled in one database transaction that also records its event_id in
`processed_events` (so a redelivery repeats no effect) and queues outgoing events in the
outbox; the message is acked only after that commit. After `max_deliveries` attempts, or at
once when it cannot be parsed, it moves to `<stream>.dlq`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from faststream import AckPolicy
from faststream.redis import RedisBroker, StreamSub
from faststream.redis.annotations import RedisBatchStreamMessage, RedisStreamMessage
from pydantic import ValidationError
from redis.asyncio import Redis
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.aio import within
from shared.contracts import Event
from shared.db import Database
from shared.idempotency import claim_event_ids, processed_ids
from shared.logging import bound_context, get_logger
from shared.metrics import consumer_done
from shared.outbox import add_event
from shared.settings import ServiceSettings
from shared.streams import as_str, dead_letter, ensure_group, group_exists

E = TypeVar("E", bound=Event)
Outcome = Event | Sequence[Event] | None
log = get_logger(__name__)


@dataclass(frozen=True)
class Reaction(Generic[E]):
    """One reaction to one event type: its consumer group and the function that applies it.

    `handle(session, event)` applies the effect inside the given transaction and returns the
    events it causes (queued in the outbox in the same transaction). With `batch=True` the
    reader hands several messages to one transaction (small effects such as aggregates);
    `handle_many(session, events)`, when given, receives the batch's new events in one call
    (one statement per batch instead of one per event), and `read_batch` overrides the
    service's setting for this reaction's reader.
    """

    group: str
    event: type[E]
    handle: Callable[[AsyncSession, E], Awaitable[Outcome]]
    batch: bool = False
    timeout_s: float = 120.0
    handle_many: Callable[[AsyncSession, list[E]], Awaitable[Outcome]] | None = None
    read_batch: int | None = None


class PoisonMessage(Exception):
    """A message that can never be handled (it does not parse as its contract)."""


class Consumers:
    """Registers, prepares and supervises a service's reactions on one broker."""

    def __init__(
        self,
        broker: RedisBroker,
        redis: Redis,
        db: Database,
        settings: ServiceSettings,
        reactions: Sequence[Reaction[Any]],
    ) -> None:
        self.broker = broker
        self.redis = redis
        self.db = db
        self.settings = settings
        self.reactions = list(reactions)
        self.subscribers: list[Any] = []
        for reaction in self.reactions:
            self._register(reaction)

    def _register(self, reaction: Reaction[Any]) -> None:
        s = self.settings
        stream = reaction.event.STREAM
        reader_sub = StreamSub(
            stream,
            group=reaction.group,
            consumer=s.consumer_name,
            max_records=reaction.read_batch or s.read_batch,
            polling_interval=s.poll_ms,
            batch=reaction.batch,
        )
        claimer_sub = StreamSub(
            stream,
            group=reaction.group,
            consumer=f"{s.consumer_name}-claim",
            min_idle_time=s.claim_idle_ms,
            polling_interval=s.poll_ms,
        )

        reader = self.broker.subscriber(stream=reader_sub, ack_policy=AckPolicy.MANUAL)
        claimer = self.broker.subscriber(stream=claimer_sub, ack_policy=AckPolicy.MANUAL)
        if reaction.batch:

            async def read_batch(message: RedisBatchStreamMessage) -> None:
                await self._handle_batch(reaction, message)

            reader(read_batch)
        else:

            async def read_one(message: RedisStreamMessage) -> None:
                await self._handle_one(reaction, message, claimed=False)

            reader(read_one)

        async def claim_one(message: RedisStreamMessage) -> None:
            await self._handle_one(reaction, message, claimed=True)

        claimer(claim_one)
        self.subscribers += [reader, claimer]

    async def prepare(self) -> None:
        """Creates every consumer group at the stream's start before the broker reads."""
        for reaction in self.reactions:
            if await ensure_group(self.redis, reaction.event.STREAM, reaction.group):
                log.info(
                    "consumer.group_created", stream=reaction.event.STREAM, group=reaction.group
                )

    async def groups_ok(self) -> bool:
        """Tells whether every group exists and every subscriber is running."""
        for reaction in self.reactions:
            if not await group_exists(self.redis, reaction.event.STREAM, reaction.group):
                return False
        return all(sub.running for sub in self.subscribers)

    async def supervise(self, every_s: float = 5.0) -> None:
        """Recreates lost groups (a Redis restart without persistence) and restarts readers."""
        while True:
            await asyncio.sleep(every_s)
            try:
                if await self.groups_ok():
                    continue
                log.warning("consumer.groups_lost_recreating")
                await self.prepare()
                for sub in self.subscribers:
                    if sub.running:
                        await sub.stop()
                    await sub.start()
            except Exception as exc:
                log.warning("consumer.supervise_failed", error=str(exc))

    # --- handling ---------------------------------------------------------------------------

    async def _handle_one(self, reaction: Reaction[Any], message: Any, *, claimed: bool) -> None:
        raw = message.raw_message
        message_id = as_str(raw["message_ids"][0])
        stream = reaction.event.STREAM
        deliveries = await message.get_delivery_count() if claimed else 1
        try:
            event = _parse(reaction.event, message.body)
        except PoisonMessage as exc:
            await self._dead_letter(reaction, message_id, raw["data"], deliveries, str(exc))
            return
        with bound_context(
            **event.log_context(), stream=stream, group=reaction.group, message_id=message_id
        ):
            if deliveries > self.settings.max_deliveries:
                await self._dead_letter(
                    reaction, message_id, raw["data"], deliveries, "max deliveries exceeded"
                )
                return
            started = time.perf_counter()
            try:
                done = await within(self._apply(reaction, [event]), reaction.timeout_s)
            except Exception as exc:
                consumer_done(self.settings.service_name, reaction.group, "failed")
                # Left pending on purpose: the claimer retries it after claim_idle_ms.
                log.warning(
                    "consumer.handler_failed",
                    delivery=deliveries,
                    error=f"{type(exc).__name__}: {exc}",
                    exc_info=True,
                )
                return
            await message.ack()
            outcome = "handled" if done else "duplicate"
            consumer_done(self.settings.service_name, reaction.group, outcome, _since(started))
            log.info(
                "consumer.handled" if done else "consumer.duplicate_skipped", delivery=deliveries
            )

    async def _handle_batch(self, reaction: Reaction[Any], message: Any) -> None:
        raw = message.raw_message
        ids = [as_str(i) for i in raw["message_ids"]]
        bodies = message.body
        if isinstance(bodies, bytes | str):
            bodies = json.loads(bodies)
        events: list[Event] = []
        for message_id, body, data in zip(ids, bodies, raw["data"], strict=True):
            try:
                events.append(_parse(reaction.event, body))
            except PoisonMessage as exc:
                await self._dead_letter(reaction, message_id, data, 1, str(exc))
        started = time.perf_counter()
        try:
            done = await within(self._apply(reaction, events), reaction.timeout_s)
        except Exception as exc:
            consumer_done(self.settings.service_name, reaction.group, "failed", count=len(events))
            # The whole batch stays pending; the claimer retries message by message, so one
            # bad message ends in the dead-letter stream without holding back the others.
            log.warning(
                "consumer.batch_failed",
                group=reaction.group,
                size=len(events),
                error=f"{type(exc).__name__}: {exc}",
            )
            return
        await self.redis.xack(reaction.event.STREAM, reaction.group, *ids)
        service = self.settings.service_name
        consumer_done(service, reaction.group, "handled", _since(started), count=done)
        consumer_done(service, reaction.group, "duplicate", count=len(events) - done)
        log.info("consumer.batch_handled", group=reaction.group, size=len(events), applied=done)

    async def _apply(self, reaction: Reaction[Any], events: list[Event]) -> int:
        """Applies events not seen before in one transaction; returns how many were applied."""
        try:
            return await self._apply_once(reaction, events)
        except IntegrityError:
            # A concurrent delivery of the same event won the race: its effect is committed.
            if await self._all_processed(reaction, events):
                return 0
            raise

    async def _apply_once(self, reaction: Reaction[Any], events: list[Event]) -> int:
        async with self.db.session() as session:
            fresh = await claim_event_ids(session, self.db.dialect, reaction.group, events)
            new: list[Event] = []
            for event in events:
                key = str(event.event_id)
                if key in fresh:
                    fresh.discard(key)  # the same event twice in one batch applies once
                    new.append(event)
            if reaction.handle_many is not None and new:
                outcomes: list[Outcome] = [await reaction.handle_many(session, new)]
            else:
                outcomes = [await reaction.handle(session, event) for event in new]
            for outcome in outcomes:
                for produced in _as_list(outcome):
                    await add_event(session, produced)
        return len(new)

    async def _all_processed(self, reaction: Reaction[Any], events: list[Event]) -> bool:
        async with self.db.session() as session:
            seen = await processed_ids(session, reaction.group, events)
        return all(str(e.event_id) in seen for e in events)

    async def _dead_letter(
        self, reaction: Reaction[Any], message_id: str, data: Any, deliveries: int, reason: str
    ) -> None:
        dlq_id = await dead_letter(
            self.redis,
            stream=reaction.event.STREAM,
            group=reaction.group,
            message_id=message_id,
            data=data,
            deliveries=deliveries,
            reason=reason,
            maxlen=self.settings.stream_maxlen,
        )
        consumer_done(self.settings.service_name, reaction.group, "dead_lettered")
        log.error(
            "consumer.dead_lettered",
            group=reaction.group,
            message_id=message_id,
            dlq_id=dlq_id,
            deliveries=deliveries,
            reason=reason,
        )


def _parse(model: type[E], body: Any) -> E:
    try:
        if isinstance(body, bytes | str):
            body = json.loads(body)
        return model.model_validate(body)
    except (ValueError, ValidationError) as exc:
        raise PoisonMessage(f"not a valid {model.__name__}: {exc}") from exc


def _since(started: float) -> float:
    return time.perf_counter() - started


def _as_list(outcome: Outcome) -> Sequence[Event]:
    if outcome is None:
        return ()
    if isinstance(outcome, Event):
        return (outcome,)
    return outcome
