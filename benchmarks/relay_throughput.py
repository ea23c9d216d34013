"""Events per second through outbox → relay → Redis stream → consumer, against raw redis-py.

Paths, each on a fresh database and a flushed Redis database (MENJAMU_BENCH_REDIS_URL, db 14):
- raw redis-py: XADD pipelined 500 at a time, then XREADGROUP COUNT 100 + one XACK per batch;
- faststream alone: a stream already written, read by a faststream subscriber whose handler
  only acks (manual ack, no database): faststream's own ceiling per message;
- outbox write: add_event, 100 events per transaction (untimed in the paths below);
- relay only: OutboxRelay.publish_pending until the outbox is empty (no consumer);
- relay + consumer: the relay loop and the project's Consumers (faststream RedisBroker, a
  reaction that does nothing, so the processed_events insert and the XACK are what is measured)
  in one process, timed from the first relay call until processed_events holds every event;
  one event per transaction at each `handler_concurrency` of MENJAMU_BENCH_CONCURRENCY
  (`1,4,8`: messages of one read handled at once), and with `batch=True`. The footnote gives
  the process's CPU milliseconds per event (relay and consumer, with their driver threads).
N = MENJAMU_BENCH_EVENTS (5000). SQLite always; PostgreSQL (MENJAMU_BENCH_PG_URL) when it answers.
MENJAMU_BENCH_SINGLE_ONLY=1 runs only the raw baselines and the one-event-per-transaction rows
(for interleaved before/after rounds).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections import Counter
from time import perf_counter, process_time
from typing import Any

from faststream import AckPolicy
from faststream.redis import RedisBroker, StreamSub
from faststream.redis.annotations import RedisStreamMessage
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from benchmarks._common import Result, env_int
from benchmarks._infra import (
    REDIS_URL,
    Env,
    environment,
    fill_outbox,
    flush_redis,
    pg_reachable,
    processed_count,
    redis_calls,
    sample_event,
)
from shared.consumer import Consumers, Reaction, whole_message
from shared.contracts.registration import ParticipantRegisteredV1
from shared.db import Database
from shared.logging import configure_logging
from shared.relay import OutboxRelay, encode_for_stream

N = env_int("MENJAMU_BENCH_EVENTS", 5000)
PER_TX = 100
RAW_PIPELINE = 500
RAW_READ = 100
RAW_STREAM = "bench.raw.v1"
GROUP = "bench.noop"
POLL_S = 0.02
STALL_S = 30.0
RAW_XADD = "raw redis-py: XADD (pipeline 500)"
RAW_ALL = "raw redis-py: XADD + XREADGROUP 100/XACK"
CONCURRENCY = tuple(
    int(c) for c in os.environ.get("MENJAMU_BENCH_CONCURRENCY", "1,4,8").split(",") if c.strip()
)
SINGLE_ONLY = os.environ.get("MENJAMU_BENCH_SINGLE_ONLY", "") not in ("", "0")
# (read_batch, batch, handler_concurrency)
SINGLE_RUNS = tuple((10, False, c) for c in CONCURRENCY)
BATCH_RUNS = ((100, True, 1), (500, True, 1))
NOTE = (
    "ratio vs raw = events/s of the row / events/s of its raw redis-py baseline in the same run: "
    "relay only against raw XADD, relay + consumer against raw XADD + XREADGROUP/XACK. "
    "Consumer: claim_idle_ms 60000, one process (relay and consumer share the event loop). "
    "SQL statements exclude BEGIN; pool checkouts no longer pre-ping (shared/db.py). "
    "Redis calls come from INFO commandstats, so other clients add to them."
)


async def noop(_session: AsyncSession, _event: ParticipantRegisteredV1) -> None:
    """Records nothing: what remains is the consumer's own bookkeeping."""
    return None


async def run() -> list[Result]:
    """Runs every path and returns the rows of the table."""
    configure_logging(
        "bench", fmt="json", level=os.environ.get("MENJAMU_BENCH_LOG_LEVEL", "WARNING")
    )
    kinds = ["sqlite"]
    if pg_reachable():
        kinds.append("postgresql")
    else:
        print("PostgreSQL does not answer: its rows are skipped", file=sys.stderr)
    results = progress(await raw_redis(N))
    if not SINGLE_ONLY:
        for read_batch, context in ((10, False), (100, False), (100, True)):
            results += progress([await faststream_alone(N, read_batch, context=context)])
        for kind in kinds:
            results += progress(await relay_only(kind, N))
    runs = SINGLE_RUNS if SINGLE_ONLY else SINGLE_RUNS + BATCH_RUNS
    for kind in kinds:
        for read_batch, batch, concurrency in runs:
            results += progress(
                [
                    await relay_and_consumer(
                        kind, N, read_batch=read_batch, batch=batch, concurrency=concurrency
                    )
                ]
            )
    await flush_redis()
    return results


def progress(results: list[Result]) -> list[Result]:
    """Reports finished paths on stderr as they come (the table comes at the end)."""
    for r in results:
        print(
            f"  {r.path}: {r.rate:,.0f} events/s in {r.seconds:.2f} s", file=sys.stderr, flush=True
        )
    return results


async def stream_fields() -> dict[str, object]:
    """The stream entry the relay writes for a sample event (same size as the relayed ones)."""
    event = sample_event(0)
    return await encode_for_stream(event.type, event.correlation_id, event.model_dump_json())


async def raw_redis(n: int) -> list[Result]:
    """The baseline: the same entries straight through redis-py, no database."""
    await flush_redis()
    fields = await stream_fields()
    redis = Redis.from_url(REDIS_URL)
    try:
        await redis.xgroup_create(RAW_STREAM, GROUP, id="0", mkstream=True)
        started = perf_counter()
        for first in range(0, n, RAW_PIPELINE):
            pipe = redis.pipeline(transaction=False)
            for _ in range(first, min(first + RAW_PIPELINE, n)):
                pipe.xadd(RAW_STREAM, fields, maxlen=1_000_000, approximate=True)  # type: ignore[arg-type]
            await pipe.execute()
        written = perf_counter()
        consumed = 0
        while consumed < n:
            # [[stream, [(id, fields), ...]]]; redis-py's annotation is a union of shapes.
            reply: Any = await redis.xreadgroup(GROUP, "raw", {RAW_STREAM: ">"}, count=RAW_READ)
            if not reply:
                raise RuntimeError(f"raw stream ran dry after {consumed} of {n}")
            ids = [message_id for message_id, _ in reply[0][1]]
            await redis.xack(RAW_STREAM, GROUP, *ids)
            consumed += len(ids)
        done = perf_counter()
    finally:
        await redis.aclose()
    return [
        Result(RAW_XADD, n, written - started, baseline=RAW_XADD),
        Result(
            RAW_ALL,
            n,
            done - started,
            baseline=RAW_ALL,
            detail=f"read + ack alone {n / (done - written):,.0f} events/s",
        ),
    ]


async def faststream_alone(n: int, read_batch: int, *, context: bool) -> Result:
    """faststream's own ceiling: a subscriber per message, no-op handler, manual ack, no SQL.

    The handler takes the message as Consumers do (a decoder that returns it) or, with
    `context`, through faststream's Context("message") annotation (resolved in a thread)."""
    await flush_redis()
    fields = await stream_fields()
    redis = Redis.from_url(REDIS_URL)
    broker = RedisBroker(REDIS_URL, logger=logging.getLogger("faststream"))
    done = asyncio.Event()
    handled = 0

    async def handle(message: Any) -> None:
        nonlocal handled
        await message.ack()
        handled += 1
        if handled >= n:
            done.set()

    async def with_context(message: RedisStreamMessage) -> None:
        await handle(message)

    sub = StreamSub(RAW_STREAM, group=GROUP, consumer="fs", max_records=read_batch)
    if context:
        broker.subscriber(stream=sub, ack_policy=AckPolicy.MANUAL)(with_context)
    else:
        options: Any = {"ack_policy": AckPolicy.MANUAL, "decoder": whole_message}
        broker.subscriber(stream=sub, **options)(handle)
    try:
        await redis.xgroup_create(RAW_STREAM, GROUP, id="0", mkstream=True)
        for first in range(0, n, RAW_PIPELINE):
            pipe = redis.pipeline(transaction=False)
            for _ in range(first, min(first + RAW_PIPELINE, n)):
                pipe.xadd(RAW_STREAM, fields, maxlen=1_000_000, approximate=True)  # type: ignore[arg-type]
            await pipe.execute()
        started = perf_counter()
        await broker.start()
        await asyncio.wait_for(done.wait(), STALL_S)
        elapsed = perf_counter() - started
    finally:
        await broker.stop()
        await redis.aclose()
    return Result(
        f"faststream alone: no-op subscriber, manual ack, read_batch {read_batch}"
        + (", Context annotation" if context else ""),
        n,
        elapsed,
        baseline=RAW_ALL,
        detail="reads a stream already written (no XADD in the timing), no database",
    )


def label(kind: str) -> str:
    """Human name of a database kind."""
    return "PostgreSQL" if kind == "postgresql" else "SQLite"


async def relay_all(relay: OutboxRelay, n: int) -> None:
    """Calls publish_pending until n rows are published."""
    published = 0
    while published < n:
        count = await relay.publish_pending()
        if not count:
            raise RuntimeError(f"outbox ran dry after {published} of {n}")
        published += count


def make_relay(env: Env, redis: Redis) -> OutboxRelay:
    """A relay with the project's default settings (batch 500)."""
    s = env.consumer_settings
    return OutboxRelay(
        env.outbox,
        redis,
        batch=s.relay_batch,
        interval_ms=s.relay_interval_ms,
        maxlen=s.stream_maxlen,
    )


async def relay_only(kind: str, n: int) -> list[Result]:
    """Outbox → Redis with no consumer; also times the outbox writes that fill it."""
    events = [sample_event(i) for i in range(n)]
    async with environment(kind) as env:
        started = perf_counter()
        await fill_outbox(env.outbox, events, PER_TX)
        filled = perf_counter()
        redis = Redis.from_url(REDIS_URL)
        try:
            env.sql.attach(env.outbox)
            relay = make_relay(env, redis)
            relayed_from = perf_counter()
            await relay_all(relay, n)
            relayed = perf_counter()
            length = await redis.xlen(ParticipantRegisteredV1.STREAM)
        finally:
            await redis.aclose()
    if length != n:
        raise RuntimeError(f"stream holds {length} entries, expected {n}")
    name = label(kind)
    return [
        Result(f"outbox write: add_event, {PER_TX}/tx ({name})", n, filled - started),
        Result(
            f"relay only: outbox → XADD ({name})",
            n,
            relayed - relayed_from,
            baseline=RAW_XADD,
            detail=env.sql.per_event(n),
        ),
    ]


async def relay_and_consumer(
    kind: str, n: int, *, read_batch: int, batch: bool, concurrency: int
) -> Result:
    """Relay and Consumers together, until processed_events holds n rows."""
    events = [sample_event(i) for i in range(n)]
    reaction = Reaction(group=GROUP, event=ParticipantRegisteredV1, handle=noop, batch=batch)
    async with environment(
        kind,
        read_batch=read_batch,
        batch_read_batch=read_batch,
        claim_idle_ms=60_000,
        handler_concurrency=concurrency,
    ) as env:
        await fill_outbox(env.outbox, events, PER_TX)
        redis = Redis.from_url(REDIS_URL)
        # Built as shared.runtime.Runtime builds it.
        broker = RedisBroker(
            REDIS_URL,
            logger=logging.getLogger("faststream"),
            log_level=logging.DEBUG,
            graceful_timeout=15.0,
        )
        consumers = Consumers(broker, redis, env.consumer, env.consumer_settings, [reaction])
        poller = Database(env.consumer_settings)  # own engine: its queries are not counted
        relay_task: asyncio.Task[None] | None = None
        try:
            await consumers.start()
            env.sql.attach(env.consumer)
            calls_before = await redis_calls(redis)
            started, cpu_started = perf_counter(), process_time()
            relay_task = asyncio.create_task(relay_all(make_relay(env, redis), n))
            await wait_processed(poller, n, relay_task, consumers)
            elapsed = perf_counter() - started
            cpu_ms = (process_time() - cpu_started) * 1000 / n
            calls = await redis_calls(redis) - calls_before
        finally:
            if relay_task is not None:
                # Its open transaction would otherwise hold locks that DROP SCHEMA waits on.
                relay_task.cancel()
                await asyncio.gather(relay_task, return_exceptions=True)
            await consumers.stop()
            await poller.dispose()
            await redis.aclose()
    mode = ", batch=True" if batch else f", concurrency {concurrency}"
    return Result(
        f"relay + consumer, read_batch {read_batch}{mode} ({label(kind)})",
        n,
        elapsed,
        baseline=RAW_ALL,
        detail=f"CPU {cpu_ms:.2f} ms/event (this process; load {_load()}); "
        + round_trips(calls, env, n),
    )


def _load() -> str:
    """The machine's 1-minute load average, which the figures depend on."""
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def round_trips(calls: Counter[str], env: Env, n: int) -> str:
    """Per-event Redis commands and consumer-side SQL, the footnote of a consumer row."""
    redis_part = ", ".join(f"{name} {count / n:.2f}" for name, count in sorted(calls.items()))
    return f"Redis calls/event (server-wide) {redis_part}; consumer {env.sql.per_event(n)}"


async def wait_processed(
    poller: Database, n: int, relay_task: asyncio.Task[None], consumers: Consumers
) -> None:
    """Polls processed_events until it holds n rows; fails fast when the run cannot finish."""
    last, last_change = -1, perf_counter()
    while (count := await processed_count(poller)) < n:
        if relay_task.done() and relay_task.exception() is not None:
            raise RuntimeError("relay failed") from relay_task.exception()
        if count != last:
            last, last_change = count, perf_counter()
        elif perf_counter() - last_change > STALL_S:
            groups = (
                "ok"
                if await consumers.groups_ok()
                else "lost (another client flushed the Redis db? see MENJAMU_BENCH_REDIS_URL)"
            )
            raise RuntimeError(
                f"no progress for {STALL_S:.0f} s at {count} of {n} processed; "
                f"consumer groups and subscribers: {groups}"
            )
        await asyncio.sleep(POLL_S)
