"""The outbox relay: publishes committed outbox rows to their Redis streams (XADD)."""

from __future__ import annotations

import asyncio
from typing import Any

from faststream.redis.parser import BinaryMessageFormatV1
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import select, update

from shared.aio import wait_for_event
from shared.contracts import utcnow
from shared.db import Database
from shared.logging import get_logger
from shared.outbox import outbox_table

log = get_logger(__name__)
REPLICA_WAIT_MS = 5_000  # below the clients' socket_timeout (10 s in Runtime), or WAIT times out


async def encode_for_stream(event_type: str, correlation_id: str, payload: str) -> dict[Any, Any]:
    """Encodes one outbox row as a stream entry that faststream subscribers parse."""
    data = await BinaryMessageFormatV1.encode(
        message=payload.encode(),
        reply_to=None,
        headers={"content-type": "application/json", "event_type": event_type},
        correlation_id=correlation_id,
    )
    return {"__data__": data}


class OutboxRelay:
    """Publishes unsent outbox rows to their streams (XADD) and marks them sent.

    A crash between XADD and the mark publishes a row twice; consumers drop the copy by event_id.
    Redis being down leaves the rows in the outbox and the relay retries with a back-off.
    """

    def __init__(
        self,
        db: Database,
        redis: Redis,
        *,
        batch: int,
        interval_ms: int,
        maxlen: int,
        min_replicas: int = 0,
    ) -> None:
        self.db = db
        self.min_replicas = min_replicas
        self.redis = redis
        self.batch = batch
        self.interval = interval_ms / 1000
        self.maxlen = maxlen
        self._wake = asyncio.Event()
        self.published_total = 0
        self.last_error: str | None = None
        db.after_commit.append(self.wake)

    def wake(self) -> None:
        """Nudges the relay right after a commit that wrote outbox rows."""
        self._wake.set()

    async def publish_pending(self) -> int:
        """Publishes one batch of unsent rows; returns how many were published."""
        async with self.db.session() as session:
            query = (
                select(
                    outbox_table.c.id,
                    outbox_table.c.stream,
                    outbox_table.c.event_type,
                    outbox_table.c.correlation_id,
                    outbox_table.c.payload,
                )
                .where(outbox_table.c.published_at.is_(None))
                .order_by(outbox_table.c.id)
                .limit(self.batch)
            )
            if self.db.dialect == "postgresql":
                # Several replicas may relay the same schema: each row goes to one of them.
                query = query.with_for_update(skip_locked=True)
            rows = (await session.execute(query)).all()
            if not rows:
                return 0
            pipe = self.redis.pipeline(transaction=False)
            for row in rows:
                fields = await encode_for_stream(row.event_type, row.correlation_id, row.payload)
                pipe.xadd(row.stream, fields, maxlen=self.maxlen, approximate=True)
            if self.min_replicas:  # WAIT on the XADDs' connection: on a replica before the mark
                pipe.wait(self.min_replicas, REPLICA_WAIT_MS)
            replies = await pipe.execute()
            if self.min_replicas and replies[-1] < self.min_replicas:
                raise RedisError(f"{replies[-1]} of {self.min_replicas} replicas acknowledged")
            await session.execute(
                update(outbox_table)
                .where(outbox_table.c.id.in_([row.id for row in rows]))
                .values(published_at=utcnow(), attempts=outbox_table.c.attempts + 1)
            )
        self.published_total += len(rows)
        return len(rows)

    async def run(self) -> None:
        """Relays forever: immediately after commits, else every interval; backs off on errors."""
        backoff = self.interval
        while True:
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
            await wait_for_event(self._wake, self.interval)
