"""Fresh databases, a flushed Redis database and counters of round trips, for benchmarks.

The outbox side and the consumer side get their own database (SQLite file, or PostgreSQL schema
`<prefix><service>`), as two services have in production, so they do not share a write lock.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlparse

import asyncpg
from redis.asyncio import Redis
from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from shared.contracts.registration import ParticipantRegisteredV1
from shared.db import Database
from shared.outbox import INFRA_METADATA, add_event, processed_events_table
from shared.settings import ServiceSettings

REDIS_URL = os.environ.get("MENJAMU_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
PG_URL = os.environ.get("MENJAMU_BENCH_PG_URL", "postgresql://127.0.0.1:5432/test")
ACTIVITY_ID = uuid.UUID("6f1c1d52-3c55-4d7e-9d0b-8b7e0c2b9a10")
REDIS_COMMANDS = ("xadd", "xreadgroup", "xack", "xautoclaim")


class OutboxSide(ServiceSettings):
    """Settings of the publishing service (owns the outbox)."""

    service_name: ClassVar[str] = "bench_outbox"


class ConsumerSide(ServiceSettings):
    """Settings of the consuming service (owns processed_events)."""

    service_name: ClassVar[str] = "bench_consumer"


def sample_event(i: int) -> ParticipantRegisteredV1:
    """A registration event of realistic size (about 0.6 kB of JSON)."""
    return ParticipantRegisteredV1(
        tenant="mojosari",
        source="registration",
        correlation_id=str(uuid.uuid4()),
        registration_id=uuid.uuid4(),
        activity_id=ACTIVITY_ID,
        activity_title="Sosialisasi Adminduk untuk Gen-Z Pemandu Keluarga",
        activity_date=date(2025, 8, 17),
        activity_location="Pendopo Kecamatan Mojosari",
        name=f"Peserta Nomor {i}",
        school="SMA Negeri 1 Mojosari",
        phone=f"+62812{i % 10**8:08d}",
        level="SMA",
        desa="Mojosari",
        consent=True,
    )


def redis_db(url: str) -> int:
    """The database number of a redis:// URL (0 when absent)."""
    path = urlparse(url).path.strip("/")
    return int(path) if path else 0


async def flush_redis() -> None:
    """Empties the benchmark's Redis database; refuses database 0 (someone's real data)."""
    if redis_db(REDIS_URL) == 0:
        raise SystemExit(f"refusing to FLUSHDB database 0 ({REDIS_URL}); use a spare one")
    redis = Redis.from_url(REDIS_URL)
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()


async def redis_calls(redis: Redis) -> Counter[str]:
    """Server-wide call counts of the stream commands (INFO commandstats)."""
    stats: dict[str, Any] = await redis.info("commandstats")
    return Counter(
        {name: int(stats.get(f"cmdstat_{name}", {}).get("calls", 0)) for name in REDIS_COMMANDS}
    )


@dataclass
class SqlCounter:
    """Counts statements and commits an engine sends (one round trip each, at least)."""

    statements: int = 0
    commits: int = 0
    checkouts: int = 0

    def attach(self, db: Database) -> None:
        """Starts counting on the database's engine."""
        engine = db.engine.sync_engine
        sa_event.listen(engine, "before_cursor_execute", self._statement)
        sa_event.listen(engine, "commit", self._commit)
        sa_event.listen(engine.pool, "checkout", self._checkout)

    def per_event(self, n: int) -> str:
        """The counts divided by n, as a footnote."""
        return (
            f"SQL statements {self.statements / n:.3f}/event, commits {self.commits / n:.3f}, "
            f"pool checkouts {self.checkouts / n:.3f}"
        )

    def _checkout(self, *_args: Any) -> None:
        self.checkouts += 1

    def _statement(self, *_args: Any) -> None:
        self.statements += 1

    def _commit(self, *_args: Any) -> None:
        self.commits += 1


@dataclass
class Env:
    """One run's fresh databases and the consumer's settings."""

    kind: str
    outbox: Database
    consumer: Database
    consumer_settings: ConsumerSide
    sql: SqlCounter = field(default_factory=SqlCounter)


def pg_reachable() -> bool:
    """Tells whether PostgreSQL answers on the benchmark URL's host and port."""
    import socket

    url = urlparse(PG_URL)
    with socket.socket() as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((url.hostname or "127.0.0.1", url.port or 5432)) == 0


@asynccontextmanager
async def environment(kind: str, **consumer: Any) -> AsyncIterator[Env]:
    """Yields fresh databases of a kind ('sqlite' or 'postgresql') and a flushed Redis db.

    PostgreSQL schemas get a unique prefix and are dropped afterwards; SQLite files live in a
    temporary folder. `consumer` overrides consumer settings (read_batch, claim_idle_ms...).
    """
    await flush_redis()
    prefix = f"bench{uuid.uuid4().hex[:8]}_"
    with tempfile.TemporaryDirectory(prefix="menjamu-bench-") as tmp:
        base: dict[str, Any] = {
            "data_dir": Path(tmp),
            "redis_url": REDIS_URL,
            "db_schema_prefix": prefix,
            "database_url": PG_URL if kind == "postgresql" else None,
        }
        outbox_settings = OutboxSide.model_validate(base)
        consumer_settings = ConsumerSide.model_validate(
            {**base, "consumer_name": f"bench-{uuid.uuid4().hex[:6]}", **consumer}
        )
        schemas = [outbox_settings.schema_name, consumer_settings.schema_name]
        if kind == "postgresql":
            await _pg_execute(*(f'CREATE SCHEMA "{name}"' for name in schemas))
        dbs: list[Database] = []
        try:
            for settings in (outbox_settings, consumer_settings):
                dbs.append(Database(settings))
                async with dbs[-1].engine.begin() as conn:
                    await conn.run_sync(INFRA_METADATA.create_all)
            yield Env(kind, dbs[0], dbs[1], consumer_settings)
        finally:
            for db in dbs:
                await db.dispose()
            if kind == "postgresql":
                await _pg_execute(*(f'DROP SCHEMA IF EXISTS "{name}" CASCADE' for name in schemas))


async def _pg_execute(*statements: str) -> None:
    conn = await asyncpg.connect(PG_URL, timeout=10)
    try:
        # A lock left by a stuck session fails the clean-up instead of hanging it.
        await conn.execute("SET lock_timeout = '15s'")
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def fill_outbox(db: Database, events: list[ParticipantRegisteredV1], per_tx: int) -> None:
    """Writes the events to the outbox with add_event, `per_tx` per transaction."""
    for first in range(0, len(events), per_tx):
        async with db.session() as session:
            for event in events[first : first + per_tx]:
                await add_event(session, event)


async def processed_count(db: Database) -> int:
    """How many rows processed_events holds."""
    async with db.session() as session:
        result = await session.execute(select(func.count()).select_from(processed_events_table))
        return int(result.scalar_one())
