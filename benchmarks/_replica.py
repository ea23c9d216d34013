"""One consumer replica for the failover benchmark (`python -m benchmarks._replica`).

Settings come from the environment the benchmark passes (database, Redis, schema prefix, data
folder) plus BENCH_CONSUMER_NAME, BENCH_CLAIM_IDLE_MS and BENCH_WORK_MS (the handler's work).
"""

from __future__ import annotations

import asyncio
import logging
import os

from faststream.redis import RedisBroker
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from benchmarks._infra import ConsumerSide
from shared.consumer import Consumers, Reaction
from shared.contracts.registration import ParticipantRegisteredV1
from shared.db import Database
from shared.logging import configure_logging

GROUP = "bench.failover"
WORK_S = int(os.environ.get("BENCH_WORK_MS", "5")) / 1000


async def work(_session: AsyncSession, _event: ParticipantRegisteredV1) -> None:
    """Stands for a handler's own work (a render, a send)."""
    await asyncio.sleep(WORK_S)


async def main() -> None:
    """Consumes until killed."""
    configure_logging("bench", fmt="json", level="WARNING")
    settings = ConsumerSide.model_validate(
        {
            "consumer_name": os.environ["BENCH_CONSUMER_NAME"],
            "claim_idle_ms": int(os.environ["BENCH_CLAIM_IDLE_MS"]),
            "poll_ms": 100,
        }
    )
    db = Database(settings)
    redis = Redis.from_url(settings.redis_url)
    broker = RedisBroker(settings.redis_url, logger=logging.getLogger("faststream"))
    consumers = Consumers(
        broker, redis, db, settings, [Reaction(GROUP, ParticipantRegisteredV1, work)]
    )
    await consumers.start()
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
