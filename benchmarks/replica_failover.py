"""Scale-out: two consumer replicas share a group on one database; one is killed mid-burst.

Each replica is a process (benchmarks/_replica.py) running the project's Consumers with a
handler that works BENCH_WORK_MS (5 ms) per event. N = MENJAMU_BENCH_FAILOVER_EVENTS (400)
events go onto the stream; once a quarter are processed one replica gets kill -9, and the time
until the survivor has processed every event is measured. Baseline: the same run without the
kill, timed from the same point. The kill costs about claim_idle_ms (the survivor's claimer
waits that long before it takes the dead replica's pending entries) plus the dead replica's
share of the remaining work.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from time import perf_counter

from redis.asyncio import Redis

from benchmarks._common import Result, env_int
from benchmarks._infra import (
    REDIS_URL,
    environment,
    pg_reachable,
    processed_count,
    sample_event,
)
from benchmarks._replica import GROUP
from shared.contracts.registration import ParticipantRegisteredV1
from shared.db import Database
from shared.relay import encode_for_stream
from shared.streams import ensure_group

N = env_int("MENJAMU_BENCH_FAILOVER_EVENTS", 400)
CLAIM_IDLE_MS = (2000, 10000)
NOTE = (
    "seconds = from the kill (or, for the baseline, the same progress) until every event is "
    "processed; the default claim_idle_ms is 60000, so expect about a minute in production."
)


async def run() -> list[Result]:
    """Without and with a kill, for each claim idle time."""
    kind = "postgresql" if pg_reachable() else "sqlite"
    results = []
    for claim_idle_ms in CLAIM_IDLE_MS:
        base = f"no kill, claim_idle_ms {claim_idle_ms} ({kind})"
        results.append(Result(base, N, await one_run(kind, claim_idle_ms, kill=False), base))
        seconds = await one_run(kind, claim_idle_ms, kill=True)
        results.append(
            Result(f"kill -9 one of two, claim_idle_ms {claim_idle_ms} ({kind})", N, seconds, base)
        )
    return results


async def one_run(kind: str, claim_idle_ms: int, *, kill: bool) -> float:
    """Seconds from the kill (or the same progress) until all N events are processed."""
    async with environment(kind) as env:
        redis = Redis.from_url(REDIS_URL)
        await ensure_group(redis, ParticipantRegisteredV1.STREAM, GROUP)
        settings = env.consumer_settings
        child_env = {
            **os.environ,
            "REDIS_URL": REDIS_URL,
            "MENJAMU_DATA_DIR": str(settings.data_dir),
            "MENJAMU_DB_SCHEMA_PREFIX": settings.db_schema_prefix,
            "BENCH_CLAIM_IDLE_MS": str(claim_idle_ms),
        }
        if settings.database_url:
            child_env["DATABASE_URL"] = settings.database_url
        replicas = [await start_replica(child_env, name) for name in ("a", "b")]
        try:
            for i in range(N):
                event = sample_event(i)
                fields = await encode_for_stream(
                    event.type, event.correlation_id, event.model_dump_json()
                )
                await redis.xadd(event.STREAM, fields)
            await until(env.consumer, N // 4)
            if kill:
                replicas[0].send_signal(signal.SIGKILL)
            started = perf_counter()
            await until(env.consumer, N)
            return perf_counter() - started
        finally:
            for proc in replicas:
                if proc.returncode is None:
                    proc.send_signal(signal.SIGKILL)
                await proc.wait()
            await redis.aclose()


async def start_replica(env: dict[str, str], name: str) -> asyncio.subprocess.Process:
    """Starts one replica process and waits until it reads."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks._replica",
        env={**env, "BENCH_CONSUMER_NAME": f"bench-{name}"},
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    async with asyncio.timeout(60):
        line = await proc.stdout.readline()
    if line.strip() != b"ready":
        raise RuntimeError(f"replica {name} did not start")
    return proc


async def until(db: Database, count: int, timeout: float = 300) -> None:
    """Polls processed_events until it holds `count` rows."""
    async with asyncio.timeout(timeout):
        while await processed_count(db) < count:  # noqa: ASYNC110 - a database count
            await asyncio.sleep(0.05)
