"""The outbox relay: publishes committed outbox rows to their Redis streams (XADD)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from redis import exceptions as redis_errors
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError
from sqlalchemy import select, update

from shared.aio import stop_if_cancelled, wait_for_event
from shared.contracts import utcnow
from shared.db import Database
from shared.logging import get_logger
from shared.outbox import outbox_table
from shared.wire import stream_fields

log = get_logger(__name__)


async def encode_for_stream(event_type: str, correlation_id: str, payload: str) -> dict[Any, Any]:
    """Encodes one outbox row as a stream entry that faststream subscribers parse."""
    return stream_fields(event_type, correlation_id, payload)


class OutboxRelay:
    """Publishes unsent outbox rows to their streams (XADD) and marks them sent.

    A mark means the entries are on Redis's disk: with `durability="waitaof"` the relay waits
    (WAITAOF 1 0) until Redis has fsynced its append-only file before marking. A crash between
    XADD and the mark publishes a row twice; consumers drop the copy by event_id. Redis being
    down leaves the rows in the outbox and the relay retries with a back-off. A row Redis
    refuses (e.g. its stream key holds another type) is retried `max_attempts` times, then
    parked (failed_at, last_error) so the rows after it go on; `menjamu outbox retry` re-sends.
    """

    def __init__(
        self,
        db: Database,
        redis: Redis,
        *,
        batch: int,
        interval_ms: int,
        maxlen: int,
        max_attempts: int = 5,
        durability: str = "none",
        fsync_timeout_ms: int = 5000,
        coalesce_ms: float = 0,
        min_replicas: int = 0,
    ) -> None:
        self.db = db
        self.min_replicas = min_replicas
        self.redis = redis
        self.batch = batch
        self.interval = interval_ms / 1000
        self.maxlen = maxlen
        self.max_attempts = max_attempts
        self.durability = durability
        self.fsync_timeout_ms = fsync_timeout_ms
        self.coalesce = coalesce_ms / 1000
        self.passes = 0
        self._wake = asyncio.Event()
        self.published_total = 0
        self.parked_total = 0
        self.last_error: str | None = None
        db.after_commit.append(self.wake)

    def wake(self) -> None:
        """Nudges the relay right after a commit that wrote outbox rows."""
        self._wake.set()

    async def resolve_durability(self) -> str:
        """Turns durability "auto" into "waitaof" when the server can, else "none"."""
        if self.durability == "auto":
            self.durability = "waitaof" if await supports_waitaof(self.redis) else "none"
            fsync = await appendfsync_of(self.redis)
            log.info("outbox.durability", mode=self.durability, appendfsync=fsync)
            if fsync != "always" and not self.min_replicas:
                # Valkey (9.1.2 at least) answers WAITAOF under everysec before the fsync
                # (tests/fault/test_durability.py): only `always` or replicas close the window.
                log.warning("outbox.durability_window", appendfsync=fsync)
        return self.durability

    async def publish_pending(self) -> int:
        """Publishes one batch of unsent rows; returns how many rows it settled."""
        await self.resolve_durability()
        self.passes += 1
        async with self.db.session() as session:
            rows = (await session.execute(self._query())).all()
            if not rows:
                return 0
            results = await self._xadd_all(rows)
            now = utcnow()
            done = [row.id for row, result in zip(rows, results, strict=True) if result is None]
            if done:
                await session.execute(
                    update(outbox_table)
                    .where(outbox_table.c.id.in_(done))
                    .values(published_at=now, attempts=outbox_table.c.attempts + 1)
                )
            for row, result in zip(rows, results, strict=True):
                if result is not None:
                    await self._count_failure(session, row, result, now)
        self.published_total += len(done)
        return len(rows)

    def _query(self) -> Any:
        c = outbox_table.c
        query = (
            select(c.id, c.stream, c.event_type, c.correlation_id, c.payload, c.attempts)
            .where(c.published_at.is_(None), c.failed_at.is_(None))
            .order_by(c.id)
            .limit(self.batch)
        )
        if self.db.dialect == "postgresql":
            # Several replicas may relay the same schema: each row goes to one of them.
            query = query.with_for_update(skip_locked=True)
        return query

    async def _xadd_all(self, rows: Sequence[Any]) -> list[str | None]:
        """XADDs every row in one pipeline; returns None per row published, else why not.

        WAITAOF (and WAIT for replicas) must run on the connection that wrote, so they end the
        same pipeline: a row counts as published only once the server confirms it durable.
        """
        pipe = self.redis.pipeline(transaction=False)
        errors: list[str | None] = []
        for row in rows:
            try:
                fields = await encode_for_stream(row.event_type, row.correlation_id, row.payload)
            except Exception as exc:
                errors.append(f"cannot encode: {type(exc).__name__}: {exc}")
                pipe.echo("skipped")  # keeps replies aligned with rows
                continue
            errors.append(None)
            pipe.xadd(row.stream, fields, maxlen=self.maxlen, approximate=True)
        waits = self._queue_waits(pipe)
        replies = await pipe.execute(raise_on_error=False)
        if waits:
            self._check_waits(replies[-1])
            replies = replies[:-1]
        results: list[str | None] = []
        for error, reply in zip(errors, replies, strict=True):
            if error is None and isinstance(reply, Exception):
                if is_server_wide(reply):
                    raise reply  # the server, not the row: retried with back-off, not counted
                error = f"{type(reply).__name__}: {reply}"
            results.append(error)
        return results

    def _queue_waits(self, pipe: Any) -> bool:
        if self.durability == "waitaof":
            # Local fsync and, when asked, fsync on that many replicas too.
            pipe.execute_command("WAITAOF", 1, self.min_replicas, self.fsync_timeout_ms)
            return True
        if self.min_replicas:
            pipe.wait(self.min_replicas, self.fsync_timeout_ms)
            return True
        return False

    def _check_waits(self, reply: Any) -> None:
        if isinstance(reply, Exception):
            raise reply
        if self.durability == "waitaof":
            local, replicas = int(reply[0]), int(reply[1])
            if local < 1 or replicas < self.min_replicas:
                raise RedisError(
                    f"WAITAOF: fsynced locally {local}, on {replicas} of "
                    f"{self.min_replicas} replicas in time"
                )
        elif int(reply) < self.min_replicas:
            raise RedisError(f"{reply} of {self.min_replicas} replicas acknowledged")

    async def _count_failure(self, session: Any, row: Any, error: str, now: Any) -> None:
        attempts = row.attempts + 1
        park = attempts >= self.max_attempts
        await session.execute(
            update(outbox_table)
            .where(outbox_table.c.id == row.id)
            .values(attempts=attempts, last_error=error[:2000], failed_at=now if park else None)
        )
        if park:
            self.parked_total += 1
            log.error("outbox.row_parked", outbox_id=row.id, attempts=attempts, error=error[:300])
        else:
            log.warning("outbox.row_failed", outbox_id=row.id, attempts=attempts, error=error[:300])

    async def run(self) -> None:
        """Relays forever: immediately after commits, else every interval; backs off on errors."""
        backoff = self.interval
        while True:
            stop_if_cancelled()
            # Cleared before reading, so a commit during the publish wakes the next round.
            self._wake.clear()
            try:
                published = await self.publish_pending()
                if self.last_error:
                    log.info("outbox.relay_recovered")
                self.last_error = None
                backoff = self.interval
                if published:
                    log.debug("outbox.published", count=published)
                if published >= self.batch:
                    continue  # a full batch: more may wait, no need for a wake-up
            except (RedisError, OSError) as exc:
                self.last_error = str(exc)
                log.warning("outbox.redis_unavailable", error=str(exc), retry_in_s=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            except Exception as exc:
                self.last_error = str(exc)
                log.exception("outbox.relay_failed")
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            if await wait_for_event(self._wake, self.interval) and self.coalesce:
                # Commits that land in the next few ms ride along: a burst goes in batches.
                await asyncio.sleep(self.coalesce)


# Replies that speak for the whole server (full, read-only, loading...), not for one row.
_SERVER_WIDE = ("OOM", "READONLY", "LOADING", "MASTERDOWN", "NOREPLICAS", "BUSY", "TRYAGAIN")


_SERVER_WIDE_TYPES = (
    redis_errors.OutOfMemoryError,
    redis_errors.ReadOnlyError,
    redis_errors.BusyLoadingError,
    redis_errors.TryAgainError,
    redis_errors.ConnectionError,
    redis_errors.TimeoutError,
)


def is_server_wide(reply: Exception) -> bool:
    """Tells whether an error reply concerns the server rather than the command's row."""
    if isinstance(reply, _SERVER_WIDE_TYPES):
        return True
    return isinstance(reply, RedisError) and str(reply).split(" ", 1)[0] in _SERVER_WIDE


async def supports_waitaof(redis: Redis) -> bool:
    """Tells whether the server has WAITAOF (Redis/Valkey >= 7.2) and its AOF is on."""
    info: Any = await redis.info("persistence")
    if not int(info.get("aof_enabled", 0)):
        return False
    try:
        # Asks for nothing (0 local, 0 replicas): answers at once where the command exists.
        await redis.execute_command("WAITAOF", 0, 0, 1)
    except ResponseError:
        return False
    return True


async def appendfsync_of(redis: Redis) -> str:
    """The server's appendfsync policy ("unknown" where CONFIG is not allowed)."""
    try:
        reply: Any = await redis.config_get("appendfsync")
    except ResponseError:
        return "unknown"
    value = reply.get("appendfsync") or reply.get(b"appendfsync") or "unknown"
    return value.decode() if isinstance(value, bytes) else str(value)
