"""A service process's moving parts: database, Redis, broker, outbox relay, consumers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Coroutine, Sequence
from typing import Any

from redis.asyncio import Redis

from shared.aio import stop_tasks
from shared.consumer import Consumers, Reaction
from shared.db import Database
from shared.logging import get_logger
from shared.redis_broker import redis_broker
from shared.redis_conn import redis_client
from shared.relay import OutboxRelay
from shared.retention import Retention
from shared.settings import ServiceSettings
from shared.tenants import Tenant, load_tenants

log = get_logger(__name__)


class Runtime:
    """Holds what one service process shares between HTTP routes and stream handlers."""

    def __init__(self, settings: ServiceSettings, reactions: Sequence[Reaction[Any]] = ()) -> None:
        self.settings = settings
        self.db = Database(settings)
        self.redis: Redis = redis_client(
            settings.redis_target,
            socket_timeout=10,
            socket_connect_timeout=5,
            health_check_interval=30,
        )
        self.broker = redis_broker(
            settings.redis_target,
            logger=logging.getLogger("faststream"),
            log_level=logging.DEBUG,
            graceful_timeout=15.0,
        )
        self.relay = OutboxRelay(
            self.db,
            self.redis,
            batch=settings.relay_batch,
            interval_ms=settings.relay_interval_ms,
            maxlen=settings.stream_maxlen,
            max_attempts=settings.relay_max_attempts,
            durability=settings.relay_durability,
            coalesce_ms=settings.relay_coalesce_ms,
            min_replicas=settings.redis_min_replicas,
        )
        self.consumers = Consumers(self.broker, self.redis, self.db, settings, reactions)
        self.retention = Retention(settings, self.db, self.redis, reactions)
        self.tenants: dict[str, Tenant] = load_tenants(settings.tenants_dir)
        self.messaging_started = False
        self._tasks: list[asyncio.Task[None]] = []
        self._messaging: asyncio.Task[None] | None = None
        self._stopping = False

    def tenant(self, code: str) -> Tenant | None:
        """Returns a tenant by code, or None."""
        return self.tenants.get(code)

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        """Runs a background task for the process's lifetime; stop() cancels it."""
        task = asyncio.create_task(coro, name=name)
        self._tasks.append(task)
        return task

    async def start(self) -> None:
        """Starts the relay now and the consumers as soon as Redis answers."""
        self.spawn(self.relay.run(), "outbox-relay")
        self.spawn(self.retention.run(), "retention")
        self._messaging = asyncio.create_task(self._start_messaging(), name="messaging")

    async def _start_messaging(self) -> None:
        delay = 0.5
        while not self._stopping:
            try:
                await self.consumers.start()
                break
            except Exception as exc:
                log.warning("messaging.start_failed", error=str(exc), retry_in_s=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
        if self._stopping:
            return
        self.messaging_started = True
        log.info("messaging.started", groups=[r.group for r in self.consumers.reactions])
        if self.consumers.reactions:
            await self.consumers.supervise(self.settings.supervise_interval_s)

    async def stop(self) -> None:
        """Stops consumers first (in-flight handlers finish), then the relay and connections."""
        self._stopping = True
        if self._messaging is not None:
            self._messaging.cancel()
            # faststream may swallow a cancel during broker.start(); never wait forever on it.
            await asyncio.wait([self._messaging], timeout=5)
        try:
            # In-flight handlers finish; one that does not is abandoned (its message stays
            # pending and is handled again after the restart), so a shutdown always ends.
            async with asyncio.timeout(self.settings.stop_timeout_s):
                await self.consumers.stop()
        except TimeoutError:
            log.error("messaging.stop_timed_out", timeout_s=self.settings.stop_timeout_s)
        except Exception as exc:
            log.warning("messaging.stop_failed", error=str(exc))
        stuck = await stop_tasks(self._tasks, seconds=10)
        for task in stuck:  # a shutdown must end even if a task ignores every cancel
            log.error("service.task_did_not_stop", task=task.get_name())
        await self.redis.aclose()
        await self.db.dispose()

    async def readiness(self) -> dict[str, Any]:
        """Checks the database, Redis and the consumers, each within ready_timeout_s (at once)."""
        limit = self.settings.ready_timeout_s
        database, redis = await asyncio.gather(
            _check(self.db.ping(), limit), _check(self.redis.ping(), limit)
        )
        checks: dict[str, Any] = {"database": database, "redis": redis}
        if redis == "ok":
            checks["consumers"] = await self._consumers_check(limit)
        checks["outbox_relay"] = "ok" if not self.relay.last_error else "retrying"
        ready = all(v == "ok" for k, v in checks.items() if k != "outbox_relay")
        failing = [k for k, v in checks.items() if v != "ok" and k != "outbox_relay"]
        return {
            "ready": ready,
            "service": self.settings.service_name,
            "checks": checks,
            "failing": failing,
        }

    async def _consumers_check(self, limit: float) -> str:
        down = self.consumers.handler.gate.down
        if down is not None:
            return f"paused: {down} unavailable"
        if not self.messaging_started:
            return "starting"
        try:
            async with asyncio.timeout(limit):
                return "ok" if await self.consumers.groups_ok() else "starting"
        except TimeoutError:
            return f"error: no answer within {limit:g} s"
        except Exception as exc:
            return f"error: {type(exc).__name__}"


async def _check(probe: Awaitable[Any], limit: float) -> str:
    """Runs one readiness probe with a deadline; 'ok' or why not."""
    try:
        async with asyncio.timeout(limit):
            await probe
    except TimeoutError:
        return f"error: no answer within {limit:g} s"
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    return "ok"
