"""Bounded storage: what each service deletes, and when (settings `retention_*`).

- published outbox rows (they hold names and phones) after `retention_outbox_days`;
  parked rows stay until an operator re-sends them;
- processed-event marks after `retention_processed_days`, which must be longer than the
  streams' retention so that any entry still on a stream still finds its mark;
- stream entries (and dead letters) older than `retention_stream_days` (XTRIM MINID);
- consumers idle longer than `retention_consumer_idle_days` that hold no pending entry
  (replicas that are gone).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError
from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError

from shared.aio import stop_if_cancelled
from shared.contracts import utcnow
from shared.db import Database
from shared.logging import get_logger
from shared.outbox import outbox_table, processed_events_table
from shared.settings import ServiceSettings
from shared.streams import as_str, dlq_stream

CHUNK = 5000
DAY_MS = 86_400_000
log = get_logger(__name__)


async def delete_published_outbox(db: Database, older_than: datetime) -> int:
    """Deletes outbox rows published before `older_than`, in chunks; returns how many."""
    c = outbox_table.c
    return await _delete_chunks(
        db,
        outbox_table,
        select(c.id).where(c.published_at.is_not(None), c.published_at < older_than),
        c.id,
    )


async def delete_processed_marks(db: Database, older_than: datetime) -> int:
    """Deletes processed-event marks recorded before `older_than`; returns how many."""
    c = processed_events_table.c
    total = 0
    while True:
        async with db.session() as session:
            keys = (
                await session.execute(
                    select(c.consumer_group, c.event_id)
                    .where(c.processed_at < older_than)
                    .limit(CHUNK)
                )
            ).all()
            for group in {k[0] for k in keys}:
                ids = [k[1] for k in keys if k[0] == group]
                await session.execute(
                    delete(processed_events_table).where(
                        c.consumer_group == group, c.event_id.in_(ids)
                    )
                )
        total += len(keys)
        if len(keys) < CHUNK:
            return total


async def _delete_chunks(db: Database, table: Any, ids_query: Any, id_column: Any) -> int:
    total = 0
    while True:
        async with db.session() as session:
            ids = list((await session.execute(ids_query.limit(CHUNK))).scalars())
            if ids:
                await session.execute(delete(table).where(id_column.in_(ids)))
        total += len(ids)
        if len(ids) < CHUNK:
            return total


async def trim_streams(redis: Redis, streams: Sequence[str], older_than_ms: int) -> int:
    """Removes entries older than the time (ms since epoch) from each stream; returns how many."""
    removed = 0
    for stream in streams:
        removed += int(await redis.xtrim(stream, minid=f"{older_than_ms}-0", approximate=False))
    return removed


async def remove_idle_consumers(redis: Redis, stream: str, group: str, idle_ms: int) -> list[str]:
    """Deletes the group's consumers idle longer than idle_ms that hold nothing pending."""
    try:
        consumers = await redis.xinfo_consumers(stream, group)
    except ResponseError:  # no such stream or group yet
        return []
    removed = []
    for consumer in consumers:
        name = as_str(consumer["name"])
        if int(consumer["pending"]) == 0 and int(consumer["idle"]) >= idle_ms:
            await redis.xgroup_delconsumer(stream, group, name)
            removed.append(name)
    return removed


class Retention:
    """Applies every retention rule of one service process, every `retention_interval_s`."""

    def __init__(
        self, settings: ServiceSettings, db: Database, redis: Redis, groups: Sequence[Any]
    ) -> None:
        self.settings = settings
        self.db = db
        self.redis = redis
        self.groups = [(r.event.STREAM, r.group) for r in groups]
        # A service's own rules, by name: each deletes what is older than its limit at `now`
        # and returns how many it removed (e.g. the dashboard's journal).
        self.rules: dict[str, Callable[[datetime], Awaitable[int]]] = {}

    async def apply(self, now: datetime | None = None) -> dict[str, int]:
        """Runs every rule once; returns what each removed."""
        s = self.settings
        now = now or utcnow()
        streams = sorted({stream for stream, _ in self.groups})
        idle_ms = int(s.retention_consumer_idle_days * DAY_MS)
        consumers = 0
        for stream, group in self.groups:
            consumers += len(await remove_idle_consumers(self.redis, stream, group, idle_ms))
        stream_cut = int((now - timedelta(days=s.retention_stream_days)).timestamp() * 1000)
        own = {name: await rule(now) for name, rule in self.rules.items()}
        return {
            **own,
            "outbox_rows": await delete_published_outbox(
                self.db, now - timedelta(days=s.retention_outbox_days)
            ),
            "processed_marks": await delete_processed_marks(
                self.db, now - timedelta(days=s.retention_processed_days)
            ),
            "stream_entries": await trim_streams(
                self.redis, streams + [dlq_stream(x) for x in streams], stream_cut
            ),
            "idle_consumers": consumers,
        }

    async def run(self) -> None:
        """Applies the rules forever (first pass after one interval)."""
        while True:
            await asyncio.sleep(self.settings.retention_interval_s)
            stop_if_cancelled()
            try:
                removed = await self.apply()
                log.info("retention.applied", **removed)
            except (RedisError, SQLAlchemyError, OSError) as exc:
                log.warning("retention.failed", error=f"{type(exc).__name__}: {exc}")
