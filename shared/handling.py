"""Handling consumed messages: effect-once transactions, transient retries, dead letters.

Each message is handled in one database transaction that also records its event_id in
`processed_events` (so a redelivery repeats no effect) and queues outgoing events in the
outbox; the message is acked only after that commit.
- A transient failure (the database or Redis unreachable, a reset connection, a driver
  timeout) closes the gate: the failing handler retries with exponential back-off and jitter,
  every other handler waits at the gate (the readers pause), and nothing counts toward the
  dead-letter limit. The message stays in this consumer's hands (Consumers refreshes the idle
  time of every entry a live replica holds), so no claimer takes it.
- A permanent failure (a bug, a violated rule, the handler's deadline) leaves the message
  pending; the claimer retries it after `claim_idle_ms`, and after `max_deliveries` it moves to
  `<stream>.dlq`. A message that does not parse goes there at once.
- A read of a single-event reaction is handled up to `handler_concurrency` messages at once,
  each in its own transaction; messages with the same ordering key (the reaction's `order_key`,
  by default the registration) one after another in stream order.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts import Event
from shared.db import Database
from shared.idempotency import claim_event_ids, processed_ids
from shared.logging import bound_context, get_logger
from shared.metrics import consumer_done
from shared.outbox import add_event
from shared.settings import ServiceSettings
from shared.streams import dead_letter
from shared.transient import DependencyGate, backoff_delays, transient_dependency

E = TypeVar("E", bound=Event)
Outcome = Event | Sequence[Event] | None
Held = tuple[str, str, str, str]  # stream, group, consumer, message id
log = get_logger(__name__)


@dataclass(frozen=True)
class Reaction(Generic[E]):
    """One reaction to one event type: its consumer group and the function that applies it.

    `handle(session, event)` applies the effect inside the given transaction and returns the
    events it causes (queued in the outbox in the same transaction). With `batch=True` the
    reader hands several messages to one transaction (small effects such as aggregates);
    `handle_many(session, events)`, when given, receives the batch's new events in one call
    (one statement per batch instead of one per event), and `read_batch` overrides the
    service's setting for this reaction's reader. `gather_ms` (batch readers): after a read
    smaller than `read_batch`, the reader waits this long before reading again, so a steady
    trickle is handled in a few larger batches instead of one transaction per wake-up (the
    effect shows that much later; 0, the default, reads again at once).

    Without `batch`, the messages of one read are handled up to `handler_concurrency` at once,
    each in its own transaction. `order_key(event)` names what must be handled in stream order:
    messages with equal keys run one after another, in the order they were read; different keys
    may run at once. The default (`by_registration`) is the event's `registration_id`, or one
    key for the whole reaction when the contract has none (then it runs one at a time).
    """

    group: str
    event: type[E]
    handle: Callable[[AsyncSession, E], Awaitable[Outcome]]
    batch: bool = False
    timeout_s: float = 120.0
    handle_many: Callable[[AsyncSession, list[E]], Awaitable[Outcome]] | None = None
    read_batch: int | None = None
    order_key: Callable[[E], Hashable] | None = None
    gather_ms: int = 0

    def key_of(self, event: E) -> Hashable:
        """The ordering key of an event of this reaction."""
        return (self.order_key or by_registration)(event)


# Measured with benchmarks/relay_throughput.py (README, Performance): PostgreSQL gains up to
# 4 (8 no better, and each message in flight holds a pooled connection). SQLite gains nothing
# measurable (its writes take turns; 2 and 4 were as fast as 1 or slower), and every extra
# transaction in flight is one more ahead of an HTTP write in the write turn's queue.
CONCURRENCY = {"postgresql": 4, "sqlite": 1}
IN_TURN = "in turn"  # the key of every event that names no registration: one at a time


def by_registration(event: Event) -> Hashable:
    """The default ordering key: the registration the event is about, else one shared key."""
    registration_id = getattr(event, "registration_id", None)
    return IN_TURN if registration_id is None else registration_id


def default_concurrency(dialect: str) -> int:
    """Messages of one read handled at once when `handler_concurrency` is not set.

    PostgreSQL runs transactions side by side, so overlapping several hides each one's round
    trips; SQLite has one writer at a time (the write turn), so there one is enough.
    """
    return CONCURRENCY.get(dialect, 1)


class PoisonMessage(Exception):
    """A message that can never be handled (it does not parse as its contract)."""


class HandlerTimeout(Exception):
    """The handler passed its deadline (counts as a failed delivery, not a transient one)."""


@dataclass
class Handler:
    """Applies messages of every reaction of one process; shared by readers and claimers."""

    redis: Redis
    db: Database
    settings: ServiceSettings
    gate: DependencyGate = field(default_factory=DependencyGate)
    # Entries whose handler failed: left for the claimer, so the keep-alive must not hold them.
    released: set[tuple[str, str, str]] = field(default_factory=set)
    stopping: bool = False
    # Calls in hand, and when the last one ended: a replica with nothing in hand for a while
    # holds no entry it is working on, so whatever it still has pending is orphaned.
    in_hand: int = 0
    last_done: float = field(default_factory=time.monotonic)
    # Messages of one read of a single-event reaction handled at once (handler_concurrency).
    concurrency: int = 0

    def __post_init__(self) -> None:
        if not self.concurrency:
            configured = self.settings.handler_concurrency
            self.concurrency = configured or default_concurrency(self.db.dialect)

    def idle_for(self) -> float:
        """Seconds since this process last had a message in hand (0 while it has one)."""
        return 0.0 if self.in_hand else time.monotonic() - self.last_done

    @contextlib.contextmanager
    def _working(self) -> Iterator[None]:
        self.in_hand += 1
        try:
            yield
        finally:
            self.in_hand -= 1
            self.last_done = time.monotonic()

    async def _ack(self, held: list[Held]) -> bool:
        """Acks committed entries; if Redis is away the entries are released, not lost: the
        claimer takes them after `claim_idle_ms` and finds their effect already done."""
        stream, group = held[0][0], held[0][1]
        try:
            await self.redis.xack(stream, group, *[h[3] for h in held])
        except (RedisError, OSError) as exc:
            log.warning("consumer.ack_failed", count=len(held), error=_brief(exc))
            self.release(held)
            return False
        return True

    async def one(
        self, reaction: Reaction[Any], held: Held, data: Any, body: Any, deliveries: int
    ) -> None:
        """Handles one message; acks it once its effect is committed (or it was a duplicate)."""
        with self._working():
            await self._one(reaction, held, data, parsed(reaction.event, body), deliveries)

    async def many(
        self, reaction: Reaction[Any], held: list[Held], datas: list[Any], bodies: list[Any]
    ) -> None:
        """Handles one read of a single-event reaction, each message in its own transaction.

        Up to `concurrency` messages at once; those with the same ordering key one after
        another in stream order. The committed ones are acked together (one XACK) when the
        read is done. Once the service is stopping, no further message is begun: what was read
        but not begun stays pending, and the next start handles it at once.
        """
        with self._working():
            items = [
                _Item(h, data, parsed(reaction.event, body))
                for h, data, body in zip(held, datas, bodies, strict=True)
            ]
            committed: list[Held] = []
            try:
                limit = min(self.concurrency, len(items))
                if limit <= 1:
                    await self._in_turn(reaction, items, None, committed)
                    return
                lines: dict[Hashable, list[_Item]] = {}
                for item in items:
                    lines.setdefault(item.key(reaction), []).append(item)
                slots = asyncio.Semaphore(limit)
                await asyncio.gather(
                    *(self._in_turn(reaction, line, slots, committed) for line in lines.values())
                )
            finally:
                if committed:
                    await self._ack(committed)

    async def _in_turn(
        self,
        reaction: Reaction[Any],
        items: list[_Item],
        slots: asyncio.Semaphore | None,
        committed: list[Held],
    ) -> None:
        """Handles messages one after another (each waits for a free slot, if limited)."""
        for item in items:
            async with slots or contextlib.nullcontext():
                if self.stopping:
                    return
                try:
                    await self._one(reaction, item.held, item.data, item.event, 1, committed)
                except Exception as exc:  # e.g. Redis gone while dead-lettering
                    # The others of the read go on; this one is left to the claimer.
                    log.error(
                        "consumer.message_failed",
                        group=reaction.group,
                        message_id=item.held[3],
                        error=_brief(exc),
                    )
                    self.release([item.held])

    async def _one(
        self,
        reaction: Reaction[Any],
        held: Held,
        data: Any,
        event: Event | PoisonMessage,
        deliveries: int,
        committed: list[Held] | None = None,
    ) -> None:
        """Handles one parsed message; acks it after the commit (or leaves the ack to the
        caller, through `committed`)."""
        stream, group, _consumer, message_id = held
        if isinstance(event, PoisonMessage):
            await self.dead_letter(reaction, message_id, data, deliveries, str(event))
            return
        with bound_context(
            **event.log_context(), stream=stream, group=group, message_id=message_id
        ):
            if deliveries > self.settings.max_deliveries:
                await self.dead_letter(
                    reaction, message_id, data, deliveries, "max deliveries exceeded"
                )
                return
            started = time.perf_counter()
            done = await self.apply_with_retry(reaction, [event], deliveries)
            if done is None:
                self.release([held])
                return
            if committed is not None:
                committed.append(held)
            elif not await self._ack([held]):
                return
            outcome = "handled" if done else "duplicate"
            consumer_done(self.settings.service_name, group, outcome, _since(started))
            log.info(
                "consumer.handled" if done else "consumer.duplicate_skipped", delivery=deliveries
            )

    async def batch(
        self, reaction: Reaction[Any], held: list[Held], bodies: list[Any], datas: list[Any]
    ) -> None:
        """Handles several messages in one transaction; a poison one is dead-lettered alone."""
        with self._working():
            await self._batch(reaction, held, bodies, datas)

    async def _batch(
        self, reaction: Reaction[Any], held: list[Held], bodies: list[Any], datas: list[Any]
    ) -> None:
        events: list[Event] = []
        for (_s, _g, _c, message_id), body, data in zip(held, bodies, datas, strict=True):
            try:
                events.append(parse(reaction.event, body))
            except PoisonMessage as exc:
                await self.dead_letter(reaction, message_id, data, 1, str(exc))
        # On a permanent failure the whole batch stays pending; the claimer retries message by
        # message, so one bad message ends in the dead-letter stream without the others.
        started = time.perf_counter()
        done = await self.apply_with_retry(reaction, events, 1)
        if done is None:
            self.release(held)
            return
        group = reaction.group
        if held and not await self._ack(held):
            return
        service = self.settings.service_name
        consumer_done(service, group, "handled", _since(started), count=done)
        consumer_done(service, group, "duplicate", count=len(events) - done)
        log.info("consumer.batch_handled", group=group, size=len(events), applied=done)

    def release(self, held: list[Held]) -> None:
        """Leaves failed entries pending for the claimer (after claim_idle_ms)."""
        if not self.stopping:
            self.released.update((stream, group, mid) for stream, group, _c, mid in held)

    async def apply_with_retry(
        self, reaction: Reaction[Any], events: list[Event], deliveries: int
    ) -> int | None:
        """Applies the events, retrying transient failures; None when left pending."""
        await self.gate.wait_open()  # the reader pauses while a dependency is down
        delays = backoff_delays(
            self.settings.retry_base_ms / 1000, self.settings.retry_max_ms / 1000
        )
        while not self.stopping:
            try:
                done = await self.apply_timed(reaction, events)
            except Exception as exc:
                dependency = transient_dependency(exc)
                if dependency is None:
                    consumer_done(
                        self.settings.service_name, reaction.group, "failed", count=len(events)
                    )
                    _log_failure(reaction, events, exc, deliveries)
                    return None
                await self._wait_for(dependency, next(delays), exc)
                continue
            if self.gate.open():
                log.info("consumer.dependency_recovered")
            return done
        return None

    async def _wait_for(self, dependency: str, delay: float, exc: BaseException) -> None:
        if self.gate.close(dependency):
            log.error("consumer.dependency_down", dependency=dependency, error=_brief(exc))
        log.warning("consumer.retrying", dependency=dependency, retry_in_s=round(delay, 3))
        await asyncio.sleep(delay)

    async def apply_timed(self, reaction: Reaction[Any], events: list[Event]) -> int:
        """Applies the events within the reaction's deadline."""
        try:
            async with asyncio.timeout(reaction.timeout_s) as deadline:
                return await self.apply(reaction, events)
        except TimeoutError as exc:
            if deadline.expired():
                raise HandlerTimeout(f"handler took longer than {reaction.timeout_s} s") from None
            raise exc

    async def apply(self, reaction: Reaction[Any], events: list[Event]) -> int:
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

    async def dead_letter(
        self, reaction: Reaction[Any], message_id: str, data: Any, deliveries: int, reason: str
    ) -> None:
        """Moves a message to its stream's dead-letter stream (and acks it)."""
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


@dataclass(frozen=True)
class _Item:
    """One message of a read: where it is held, its raw fields, its event (or why not)."""

    held: Held
    data: Any
    event: Event | PoisonMessage

    def key(self, reaction: Reaction[Any]) -> Hashable:
        if isinstance(self.event, PoisonMessage):
            return ("poison", self.held[3])  # dead-lettered at once: waits for nothing
        return reaction.key_of(self.event)


def parsed(model: type[E], body: Any) -> E | PoisonMessage:
    """The message's event, or the PoisonMessage saying why it has none."""
    try:
        return parse(model, body)
    except PoisonMessage as exc:
        return exc


def parse(model: type[E], body: Any) -> E:
    """Parses a message body as its contract; raises PoisonMessage when it cannot."""
    try:
        if isinstance(body, bytes | str):
            return model.model_validate_json(body)
        return model.model_validate(body)
    except (ValueError, ValidationError) as exc:
        raise PoisonMessage(f"not a valid {model.__name__}: {exc}") from exc


def _log_failure(
    reaction: Reaction[Any], events: list[Event], exc: BaseException, deliveries: int
) -> None:
    # Left pending on purpose: the claimer retries it after claim_idle_ms.
    log.warning(
        "consumer.handler_failed",
        group=reaction.group,
        size=len(events),
        delivery=deliveries,
        error=_brief(exc),
        exc_info=not isinstance(exc, HandlerTimeout),
    )


def _since(started: float) -> float:
    return time.perf_counter() - started


def _brief(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _as_list(outcome: Outcome) -> Sequence[Event]:
    if outcome is None:
        return ()
    if isinstance(outcome, Event):
        return (outcome,)
    return outcome
