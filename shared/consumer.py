"""The one way a service consumes a stream: at-least-once delivery, effect-once processing.

For every reaction (one consumer group) two faststream subscribers share the group:
- a reader (XREADGROUP '>', bounded by `read_batch`) for new messages;
- a claimer (XAUTOCLAIM with `min_idle_time`) that picks up messages left pending by a
  handler that failed or a process that died; faststream never redelivers those by itself.
A reader hands a whole read to the handler: handled in one transaction (batch reactions), or
message by message, several at once with order kept per ordering key (the others).
The consumer names are stable per replica (`consumer_name`), so on start a replica first
re-reads its own pending entries (XREADGROUP id 0): what a stop left unacked is handled at once,
not after `claim_idle_ms`. How each message is handled is in shared/handling.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Sequence
from typing import Any

from faststream import AckPolicy
from faststream.redis import RedisBroker, StreamSub
from faststream.redis.message import FAKE_CONSUMER, RedisBatchStreamMessage, RedisStreamMessage
from faststream.redis.parser import BinaryMessageFormatV1
from redis.asyncio import Redis
from redis.exceptions import RedisError

from shared import wire
from shared.aio import stop_if_cancelled
from shared.db import Database
from shared.handling import Handler, Held, PoisonMessage, Reaction
from shared.logging import get_logger
from shared.settings import ServiceSettings
from shared.streams import as_str, ensure_group, group_exists
from shared.wire import WireError

__all__ = ["Consumers", "PoisonMessage", "Reaction"]
log = get_logger(__name__)


def claim_poll_ms(settings: ServiceSettings) -> int:
    """How often a claimer looks for abandoned entries (XAUTOCLAIM does not block).

    A tenth of `claim_idle_ms` (at most a second), never more often than `poll_ms`: an entry
    becomes claimable only after `claim_idle_ms`, so polling faster finds nothing sooner and, with
    a short `poll_ms` (readers block, so it adds no latency there), cost a Redis round trip per
    group every few milliseconds.
    """
    return max(settings.poll_ms, min(settings.claim_idle_ms // 10, 1000))


async def whole_message(message: Any) -> Any:
    """A decoder that hands the handler faststream's message (ids, fields, raw body)."""
    return message


async def undecoded_batch(raw: Any) -> RedisBatchStreamMessage:
    """A batch parser that leaves the entries as read: the handler decodes each body once.

    faststream's own batch parser decodes every entry, loads its JSON, then dumps the whole
    list as one JSON document for the decoder to load again; the handler then validated dicts.
    Here each entry's body goes straight from its stream fields to the contract's JSON
    validation (`_body_of`, then `parse`). Acks stay the handler's (AckPolicy.MANUAL).
    """
    return RedisBatchStreamMessage(raw_message=raw, body=b"", consumer=FAKE_CONSUMER, group=None)


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
        self.settings = settings
        self.reactions = list(reactions)
        self.handler = Handler(redis, db, settings)
        self.subscribers: list[Any] = []
        self._keepalive: asyncio.Task[None] | None = None
        # Set once every subscriber has started: until then no handler begins (see start).
        self._started = asyncio.Event()
        self._held_since: dict[tuple[str, str, str], float] = {}
        for reaction in self.reactions:
            self._register(reaction)

    @property
    def reader_name(self) -> str:
        """This replica's consumer name for new messages."""
        return self.settings.consumer_name

    @property
    def claimer_name(self) -> str:
        """This replica's consumer name for reclaimed messages."""
        return f"{self.settings.consumer_name}-claim"

    def _subscribers(self, reaction: Reaction[Any]) -> tuple[Any, Any]:
        """The reader's and the claimer's faststream subscribers for one reaction."""
        s = self.settings
        stream, group = reaction.event.STREAM, reaction.group
        reader_sub = StreamSub(
            stream,
            group=group,
            consumer=self.reader_name,
            max_records=reaction.read_batch
            or (s.batch_read_batch if reaction.batch else s.read_batch),
            polling_interval=s.poll_ms,
            batch=True,  # a read comes whole: handled together (batch) or side by side (many)
        )
        claimer_sub = StreamSub(
            stream,
            group=group,
            consumer=self.claimer_name,
            min_idle_time=s.claim_idle_ms,
            polling_interval=claim_poll_ms(s),
        )
        # The handlers take the message itself as their "body" (whole_message) instead of a
        # Context("message") annotation: faststream resolves a Context in a worker thread, a
        # thread hop per message that cost about as much as the rest of faststream together.
        options: Any = {"ack_policy": AckPolicy.MANUAL, "decoder": whole_message}
        reader = self.broker.subscriber(stream=reader_sub, parser=undecoded_batch, **options)
        claimer = self.broker.subscriber(stream=claimer_sub, **options)
        return reader, claimer

    def _register(self, reaction: Reaction[Any]) -> None:
        stream, group = reaction.event.STREAM, reaction.group
        reader, claimer = self._subscribers(reaction)
        if reaction.batch:
            limit = reaction.read_batch or self.settings.batch_read_batch
            gather_s = reaction.gather_ms / 1000

            async def read_batch(whole: Any) -> None:
                await self._started.wait()
                held, bodies, datas = self._read(stream, group, whole)
                await self.handler.batch(reaction, held, bodies, datas)
                if gather_s and len(held) < limit and not self.handler.stopping:
                    await asyncio.sleep(gather_s)  # acked already: the next read waits

            reader(read_batch)
        else:

            async def read_many(whole: Any) -> None:
                await self._started.wait()
                held, bodies, datas = self._read(stream, group, whole)
                await self.handler.many(reaction, held, datas, bodies)

            reader(read_many)

        async def claim_one(whole: Any) -> None:
            await self._started.wait()
            message: RedisStreamMessage = whole
            raw = message.raw_message
            held = (stream, group, self.claimer_name, as_str(raw["message_ids"][0]))
            deliveries = await message.get_delivery_count()
            await self.handler.one(reaction, held, raw["data"], message.body, deliveries)

        claimer(claim_one)
        self.subscribers += [reader, claimer]

    def _read(self, stream: str, group: str, whole: Any) -> tuple[list[Held], list[Any], list[Any]]:
        """The entries of one read: where each is held, its body, its raw fields."""
        message: RedisBatchStreamMessage = whole
        raw = message.raw_message
        held = [(stream, group, self.reader_name, as_str(i)) for i in raw["message_ids"]]
        datas = list(raw["data"])
        return held, [_body_of(data) for data in datas], datas

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Creates the groups, handles this replica's own pending entries, then starts reading.

        faststream starts the subscribers one after another and gives each 3 s (not
        configurable) to answer a PING from its reading task; a subscriber started earlier
        reads meanwhile. Its handlers wait until all have started: a read handled on the event
        loop at that moment (a long batch, a failure's traceback) once took those 3 s from the
        next subscriber under load and failed the start. If the start fails anyway, what did
        start is stopped: its reading tasks would otherwise run on unstopped (a retry adds a
        second one per subscriber; a test's event loop waited forever for them at its close).
        """
        self.handler.stopping = False
        self._started.clear()
        await self.prepare()
        await self.recover_own_pending()
        if self.reactions:
            try:
                await self.broker.start()
            except BaseException:
                with contextlib.suppress(Exception):
                    await self.broker.stop()
                raise
        self._started.set()
        self._keepalive = asyncio.create_task(
            self.keep_own_pending_alive(), name="consumer-keepalive"
        )

    async def stop(self) -> None:
        """Stops reading; handlers in hand finish (or, if waiting on a dependency, give up)."""
        self.handler.stopping = True
        self.handler.gate.release()
        self._started.set()  # a handler still waiting for the start sees the stop instead
        if self.reactions:
            await self.broker.stop()
        if self._keepalive is not None:
            self._keepalive.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keepalive

    async def prepare(self) -> None:
        """Creates every consumer group at the stream's start before the broker reads."""
        for reaction in self.reactions:
            if await ensure_group(self.redis, reaction.event.STREAM, reaction.group):
                log.info(
                    "consumer.group_created", stream=reaction.event.STREAM, group=reaction.group
                )

    async def recover_own_pending(self) -> int:
        """Handles the entries this replica's consumers read but never acked (an earlier run)."""
        handled = 0
        for reaction in self.reactions:
            for consumer in (self.reader_name, self.claimer_name):
                handled += await self._recover(reaction, consumer)
        if handled:
            log.info("consumer.own_pending_recovered", count=handled)
        return handled

    async def _recover(self, reaction: Reaction[Any], consumer: str) -> int:
        stream, group = reaction.event.STREAM, reaction.group
        pending = await self.redis.xpending_range(stream, group, "-", "+", 1000, consumer)
        counts = {as_str(p["message_id"]): int(p["times_delivered"]) for p in pending}
        if not counts:
            return 0
        reply: Any = await self.redis.xreadgroup(group, consumer, {stream: "0"}, count=1000)
        entries = reply[0][1] if reply else []
        for entry_id, data in entries:
            message_id = as_str(entry_id)
            body = _body_of(data)
            held = (stream, group, consumer, message_id)
            await self.handler.one(reaction, held, data, body, counts.get(message_id, 1) + 1)
        return len(entries)

    async def keep_own_pending_alive(self) -> None:
        """Keeps this replica's pending entries (in hand, or read and queued behind them) from
        looking abandoned, so another replica's claimer takes none that this live one holds."""
        every = self.settings.claim_idle_ms / 4000
        while True:
            await asyncio.sleep(every)
            stop_if_cancelled()
            try:
                await self._refresh_own()
            except (RedisError, OSError) as exc:
                log.debug("consumer.keepalive_failed", error=str(exc))

    async def _refresh_own(self) -> None:
        # Only entries idle for half the claim time are re-owned: an entry another replica has
        # just claimed is fresh, so this never takes one back from a claimer. Entries whose
        # handler failed (released) are left to go idle, so the claimer retries them.
        if self.handler.idle_for() > max(3 * self.settings.poll_ms / 1000, 2.0):
            # Nothing in hand for a while, so nothing read is queued either: whatever is still
            # pending here is orphaned (a read whose reply a dropped connection lost, an ack
            # Redis never got). It is left to go idle; the claimer takes it.
            self._held_since.clear()
            return
        min_idle = self.settings.claim_idle_ms // 2
        released = self.handler.released
        before = set(released)
        still_released: set[tuple[str, str, str]] = set()
        seen: dict[tuple[str, str, str], float] = {}
        now = time.monotonic()
        for reaction in self.reactions:
            stream, group = reaction.event.STREAM, reaction.group
            # However slow the handler, an entry is worked on within a read batch's deadlines;
            # one held longer is orphaned even while the replica is busy with others.
            hold_limit = reaction.timeout_s * (self.settings.read_batch + 1)
            for consumer in (self.reader_name, self.claimer_name):
                pending = await self.redis.xpending_range(stream, group, "-", "+", 1000, consumer)
                ids: list[Any] = []
                for entry in pending:
                    key = (stream, group, as_str(entry["message_id"]))
                    seen[key] = self._held_since.get(key, now)
                    if key in released:
                        still_released.add(key)
                    elif now - seen[key] > hold_limit:
                        continue
                    elif int(entry["time_since_delivered"]) >= min_idle:
                        ids.append(key[2])
                if ids:
                    # JUSTID: re-owning resets the idle time without counting a delivery.
                    await self.redis.xclaim(stream, group, consumer, min_idle, ids, justid=True)
        self._held_since = seen
        released.difference_update(before - still_released)  # taken by others, or acked

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
            stop_if_cancelled()
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


def _body_of(data: dict[Any, Any]) -> bytes:
    """The message body of a raw stream entry, as faststream's parser would read it.

    The relay's entries (shared.wire) give up their body from the format's prefix alone;
    anything else goes through faststream's own parser (its JSON envelope, raw fields)."""
    raw = data.get(b"__data__")
    if raw is not None:
        with contextlib.suppress(WireError):
            return wire.body_of(bytes(raw))
    try:
        if raw is None:
            raw = json.dumps({as_str(k): as_str(v) for k, v in data.items()}).encode()
        body, _headers = BinaryMessageFormatV1.parse(raw)
    except Exception:  # not a faststream message at all: the handler dead-letters it
        return b""
    return bytes(body)
