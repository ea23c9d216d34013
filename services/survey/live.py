"""The live view's feed: one reader of survey.ikm_updated.v1 per process, fanned out to viewers.

Each process reads the stream (XREAD, no group: every replica sees every update) and, per update,
computes each watched tenant's snapshot once; all its viewers get that snapshot. The database is
never polled per viewer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from redis.asyncio import Redis

from shared.contracts import IkmUpdatedV1
from shared.logging import get_logger
from shared.streams import as_str

log = get_logger(__name__)
Snapshot = dict[str, Any]
Compute = Callable[[str, str | None], Awaitable[Snapshot]]
Watch = tuple[str, str | None]  # tenant, unit


class LiveHub:
    """Keeps each watched (tenant, unit)'s latest snapshot and the queues of its viewers."""

    def __init__(self, redis: Redis, compute: Compute, block_ms: int = 1000) -> None:
        self.redis = redis
        self.compute = compute
        self.block_ms = block_ms
        self.viewers: dict[Watch, set[asyncio.Queue[Snapshot]]] = {}
        self.latest: dict[Watch, Snapshot] = {}
        self.closed = asyncio.Event()  # set at shutdown: open streams end, browsers reconnect

    @asynccontextmanager
    async def watch(self, tenant: str, unit: str | None) -> AsyncIterator[asyncio.Queue[Snapshot]]:
        """A viewer's queue: the current snapshot first, then one per update."""
        key = (tenant, unit)
        queue: asyncio.Queue[Snapshot] = asyncio.Queue(maxsize=8)
        self.viewers.setdefault(key, set()).add(queue)
        try:
            if key not in self.latest:
                self.latest[key] = await self.compute(tenant, unit)
            queue.put_nowait(self.latest[key])
            yield queue
        finally:
            self.viewers[key].discard(queue)
            if not self.viewers[key]:
                del self.viewers[key]
                self.latest.pop(key, None)

    async def run(self) -> None:
        """Reads updates for the process's lifetime; survives Redis outages."""
        try:
            await self._read()
        finally:
            self.closed.set()

    async def _read(self) -> None:
        last_id, delay = "$", 0.5
        while True:
            try:
                reply: Any = await self.redis.xread(
                    {IkmUpdatedV1.STREAM: last_id}, block=self.block_ms, count=100
                )
                delay = 0.5
            except Exception as exc:
                log.warning("survey.live_read_failed", error=type(exc).__name__, retry_in_s=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            if reply:
                entries = reply[0][1]
                last_id = as_str(entries[-1][0])
                await self.refresh(len(entries))

    async def refresh(self, updates: int) -> None:
        """Recomputes each watched snapshot once and hands it to its viewers."""
        for key in list(self.viewers):
            try:
                snapshot = await self.compute(*key)
            except Exception as exc:
                log.warning("survey.live_refresh_failed", error=type(exc).__name__)
                continue
            self.latest[key] = snapshot
            for queue in list(self.viewers.get(key, ())):
                if queue.full():  # a slow viewer skips to the newest snapshot
                    queue.get_nowait()
                queue.put_nowait(snapshot)
        log.debug("survey.live_refreshed", updates=updates, watched=len(self.viewers))
