"""Survey responses per second through the real stream into the IKM aggregates, vs raw redis-py.

Paths, each on a fresh database (SQLite file; PostgreSQL schema when MENJAMU_BENCH_PG_URL
answers) and a flushed Redis database (MENJAMU_BENCH_REDIS_URL, db 14):
- raw redis-py (baseline): XADD pipelined 500 at a time, then XREADGROUP COUNT 500 + one XACK
  per batch, same payloads;
- the survey service's aggregator: the same XADDs, then the service's own Consumers and
  reactions() (read 1000, processed_events mark, one upsert per table per batch, one commit, XACK)
  drain that backlog, timed from the first XADD until daily_responses counts every response;
- the aggregator as it was (read_batch 10, one upsert per response), on fewer responses.
N = MENJAMU_BENCH_SURVEY_N (100000); the "as it was" rows use N / 100.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import sys
import tempfile
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from time import perf_counter
from typing import Any

from faststream.redis import RedisBroker
from redis.asyncio import Redis
from sqlalchemy import func, select

from benchmarks._common import Result, env_int
from benchmarks._infra import PG_URL, REDIS_URL, _pg_execute, flush_redis, pg_reachable
from services.survey import aggregates
from services.survey.app import MIGRATIONS
from services.survey.handlers import reactions
from services.survey.models import DailyResponses
from services.survey.settings import AGGREGATE_READ_BATCH, Settings
from shared.consumer import Consumers, Reaction
from shared.contracts import ResponseSubmittedV1
from shared.db import Database
from shared.logging import configure_logging
from shared.migrations import upgrade
from shared.parts import ServiceParts
from shared.relay import encode_for_stream

N = env_int("MENJAMU_BENCH_SURVEY_N", 100_000)
PIPELINE = 500
READ = 500
RAW = "raw redis-py: XADD 500 + XREADGROUP 500/XACK (baseline)"
UNITS = ("kantor-kecamatan", "si-genz-menjamu", "loket-kk", "loket-akta")
STALL_S = 60.0
NOTE = (
    "ratio = responses/s of the row / responses/s of raw redis-py in the same run. The survey "
    "rows include the XADDs (as the outbox relay sends them) and the aggregator's whole work."
)


def responses(n: int, seed: int = 7) -> list[ResponseSubmittedV1]:
    """n realistic events over a year in stream order, four units, blanks and profiles."""
    rng = random.Random(seed)
    start = date(2025, 1, 1)
    events = []
    for i in range(n):
        day = start + timedelta(days=i * 365 // n)  # a stream carries answers as they come
        scores = {f"U{i}": rng.choice((1, 2, 3, 3, 4, 4, 4, None)) for i in range(1, 10)}
        scores["U1"] = rng.randint(1, 4)
        events.append(
            ResponseSubmittedV1(
                tenant="mojosari", source="survey", correlation_id=uuid.uuid4().hex,
                response_id=uuid.uuid4(), unit=rng.choice(UNITS), local_date=day,
                submitted_at=datetime(day.year, day.month, day.day, 3, tzinfo=UTC),
                scores=scores, gender=rng.choice(("L", "P", None)),
                age_band=rng.choice(("<20", "20-29", "30-39", None)), guided=rng.random() < 0.3,
            )
        )  # fmt: skip
    return events


async def entries(events: list[ResponseSubmittedV1]) -> list[dict[Any, Any]]:
    """The stream entries the relay would write."""
    return [await encode_for_stream(e.type, e.correlation_id, e.model_dump_json()) for e in events]


async def xadd_all(redis: Redis, stream: str, fields: list[dict[Any, Any]]) -> None:
    """XADD pipelined, as the relay publishes a batch."""
    for first in range(0, len(fields), PIPELINE):
        pipe = redis.pipeline(transaction=False)
        for f in fields[first : first + PIPELINE]:
            pipe.xadd(stream, f, maxlen=1_000_000, approximate=True)
        await pipe.execute()


async def raw_redis(fields: list[dict[Any, Any]]) -> Result:
    """The baseline: XADD, then XREADGROUP and XACK in batches, no database."""
    await flush_redis()
    redis = Redis.from_url(REDIS_URL)
    stream, n = "bench.survey.raw.v1", len(fields)
    try:
        await redis.xgroup_create(stream, "raw", id="0", mkstream=True)
        started = perf_counter()
        await xadd_all(redis, stream, fields)
        consumed = 0
        while consumed < n:
            reply: Any = await redis.xreadgroup("raw", "raw", {stream: ">"}, count=READ)
            ids = [message_id for message_id, _ in reply[0][1]]
            await redis.xack(stream, "raw", *ids)
            consumed += len(ids)
        elapsed = perf_counter() - started
    finally:
        await redis.aclose()
    return Result(RAW, n, elapsed, baseline=RAW)


def survey_settings(kind: str, tmp: Path, prefix: str) -> Settings:
    """The survey service's settings on a fresh database of the kind."""
    return Settings.model_validate(
        {
            "data_dir": tmp, "redis_url": REDIS_URL, "db_schema_prefix": prefix,
            "database_url": PG_URL if kind == "postgresql" else None,
            "consumer_name": f"bench-{uuid.uuid4().hex[:6]}", "poll_ms": 50,
        }
    )  # fmt: skip


async def counted(db: Database) -> int:
    """Responses the aggregates count."""
    async with db.session() as session:
        total = await session.scalar(select(func.coalesce(func.sum(DailyResponses.responses), 0)))
    return int(total or 0)


async def wait_counted(db: Database, n: int) -> None:
    """Polls until the aggregates count n responses; fails when progress stops."""
    last, since = -1, perf_counter()
    while (count := await counted(db)) < n:
        if count != last:
            last, since = count, perf_counter()
        elif perf_counter() - since > STALL_S:
            raise RuntimeError(f"aggregator stalled at {count} of {n}")
        await asyncio.sleep(0.05)
    if count != n:
        raise RuntimeError(f"aggregates count {count}, expected {n}")


async def aggregator(kind: str, fields: list[dict[Any, Any]], reaction: Reaction[Any]) -> float:
    """XADDs then the service's consumer, until the aggregates count every response."""
    await flush_redis()
    prefix = f"bench{uuid.uuid4().hex[:8]}_"
    with tempfile.TemporaryDirectory(prefix="menjamu-bench-") as tmp:
        settings = survey_settings(kind, Path(tmp), prefix)
        await asyncio.to_thread(upgrade, settings, MIGRATIONS)
        db, poller = Database(settings), Database(settings)
        redis = Redis.from_url(REDIS_URL)
        broker = RedisBroker(REDIS_URL, logger=logging.getLogger("faststream"))
        consumers = Consumers(broker, redis, db, settings, [reaction])
        try:
            await consumers.prepare()
            # As the baseline does: all XADDs first, then the consumer drains the backlog
            # (the situation of a service that fell behind); both phases are timed.
            started = perf_counter()
            await xadd_all(redis, ResponseSubmittedV1.STREAM, fields)
            await broker.start()
            await wait_counted(poller, len(fields))
            return perf_counter() - started
        finally:
            await broker.stop()
            await redis.aclose()
            await db.dispose()
            await poller.dispose()
            if kind == "postgresql":
                await _pg_execute(f'DROP SCHEMA IF EXISTS "{settings.schema_name}" CASCADE')


async def as_it_was(session: Any, event: ResponseSubmittedV1) -> None:
    """The aggregator before: one upsert per response (and read_batch 10)."""
    await aggregates.aggregate_response(session, event)


OLD = Reaction(
    group="survey.aggregate", event=ResponseSubmittedV1, handle=as_it_was, batch=True,
    read_batch=10,
)  # fmt: skip


async def run() -> list[Result]:
    """Runs the baseline and the aggregator on each database kind."""
    configure_logging("bench", fmt="json", level=os.environ.get("MENJAMU_BENCH_LOG_LEVEL", "ERROR"))
    fields = await entries(responses(N))
    kinds = ["sqlite"] + (["postgresql"] if pg_reachable() else [])
    results = [await raw_redis(fields)]
    for kind in kinds:
        aggregate = reactions(ServiceParts(Settings(), {}))[0]  # the reaction needs no parts
        seconds = await aggregator(kind, fields, aggregate)
        path = f"survey aggregator, read {AGGREGATE_READ_BATCH}, one upsert/table/batch ({kind})"
        results.append(Result(path, N, seconds, baseline=RAW))
        print(f"  {results[-1].path}: {results[-1].rate:,.0f}/s", file=sys.stderr, flush=True)
    for kind in kinds:
        few = fields[: max(N // 100, 1)]
        seconds = await aggregator(kind, few, OLD)
        results.append(Result(f"aggregator as it was: read 10, upsert per response ({kind})",
                              len(few), seconds, baseline=RAW))  # fmt: skip
    await flush_redis()
    return results
