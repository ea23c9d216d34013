"""Published means durable: a crash loses no event that the outbox marked published.

Two crashes, each checked both ways (the guarantee on, and off to show the check sees a loss):
- the crash of Redis's machine (kill -9 with tests/fault/lazy_disk.c under the AOF: what was
  not fsynced is gone): `appendfsync always` keeps every marked event; marking on XADD under
  `everysec` loses the last second's;
- the loss of the primary (a failover promotes a replica that lags): the relay's WAIT for a
  replica keeps every marked event on the promoted replica; without it marked events are lost.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from faststream.redis.parser import BinaryMessageFormatV1
from redis.asyncio import Redis
from sqlalchemy import select

from shared.aio import stop_tasks
from shared.contracts import ResponseSubmittedV1
from shared.db import Database
from shared.outbox import add_event, outbox_table
from shared.relay import OutboxRelay
from tests.fault.crash import CrashableRedis, build_lazy_disk
from tests.integration.test_delivery import DeliverySettings, database, event
from tests.support import make_settings, wait_for

pytestmark = [pytest.mark.fault, pytest.mark.integration]
STREAM = ResponseSubmittedV1.STREAM


@pytest.fixture(scope="module")
def lazy_disk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_lazy_disk(tmp_path_factory.mktemp("lazy_disk"))


class CrashingRelay(OutboxRelay):
    """A relay that crashes the server right after the pass that marks the `after`-th row."""

    def __init__(self, *args: Any, crash: Callable[[], None], after: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.crash, self.after, self.crashed = crash, after, False

    async def publish_pending(self) -> int:
        settled = await super().publish_pending()
        if not self.crashed and self.published_total >= self.after:
            self.crash()
            self.crashed = True
        return settled


def client(url: str) -> Redis:
    """A client that never waits forever on a server the test froze or killed."""
    return Redis.from_url(url, socket_timeout=15, socket_connect_timeout=5)


async def published_ids(db: Database) -> set[str]:
    """Event ids of the rows the outbox calls published."""
    async with db.session() as session:
        rows = await session.execute(
            select(outbox_table.c.event_id).where(outbox_table.c.published_at.is_not(None))
        )
        return {str(row[0]) for row in rows}


async def ids_on_stream(url: str) -> set[str]:
    """Event ids of the entries on the stream of the server at `url`."""
    redis = client(url)
    try:
        found = set()
        for _id, fields in await redis.xrange(STREAM):
            body, _headers = BinaryMessageFormatV1.parse(fields[b"__data__"])
            found.add(json.loads(body)["event_id"])
        return found
    finally:
        await redis.aclose()


async def xlen(url: str) -> int:
    """Entries on the stream of the server at `url`."""
    redis = client(url)
    try:
        return int(await redis.xlen(STREAM))
    finally:
        await redis.aclose()


async def stopped(task: asyncio.Task[Any]) -> None:
    """Stops a task the way a service's shutdown does, and fails if it will not stop."""
    assert not await stop_tasks([task], seconds=30), "the task ran on after being cancelled"


@asynccontextmanager
async def burst(db: Database) -> AsyncIterator[None]:
    """Commits events to the outbox, 50 per transaction, until the block ends."""

    async def produce() -> None:
        while True:
            async with db.session() as session:
                for _ in range(50):
                    await add_event(session, event())
            await asyncio.sleep(0.005)

    producing = asyncio.create_task(produce())
    try:
        yield
    finally:
        await stopped(producing)


async def relay_until_crashed(relay: CrashingRelay, db: Database) -> set[str]:
    """Runs the relay over a burst until it crashed the server; returns the marked event ids."""
    async with burst(db):
        relaying = asyncio.create_task(relay.run())

        async def crashed() -> bool:
            return relay.crashed

        try:
            await wait_for(crashed, timeout=60, what="the crash after a burst of marks")
        finally:
            await stopped(relaying)
    return await published_ids(db)


@pytest.mark.parametrize(
    ("fsync", "durability", "loses"),
    [
        # The embedded server of `make run` (auto -> WAITAOF): nothing marked is lost.
        pytest.param("always", "auto", False, id="always-keeps-every-mark"),
        # Marking on XADD under everysec: the check must see the loss, or the crash is not real.
        pytest.param("everysec", "none", True, id="everysec-on-xadd-loses-marks"),
    ],
)
async def test_a_machine_crash_keeps_every_event_marked_published_only_with_appendfsync_always(
    tmp_path: Path, lazy_disk: Path, fsync: str, durability: str, loses: bool
) -> None:
    server = CrashableRedis(tmp_path / "valkey", lazy_disk, fsync)
    server.start()
    settings = make_settings(
        DeliverySettings, data_dir=tmp_path, redis_url=server.url, database_url=None
    )
    redis = client(server.url)
    try:
        async with database(settings) as db:
            relay = CrashingRelay(
                db, redis, batch=100, interval_ms=10, maxlen=1_000_000,
                durability=durability, crash=server.crash, after=500,
            )  # fmt: skip
            marked = await relay_until_crashed(relay, db)
        server.start()  # replays what reached its disk
        lost = marked - await ids_on_stream(server.url)
        assert len(marked) >= 500, "the crash came before the burst was marked"
        if loses:
            assert lost, "marks on XADD under everysec lost nothing: the crash is not real"
        else:
            assert not lost, f"{len(lost)} of {len(marked)} events marked published were lost"
    finally:
        await redis.aclose()
        server.stop()


async def test_valkey_waitaof_under_everysec_acknowledges_writes_before_their_fsync(
    tmp_path: Path, lazy_disk: Path
) -> None:
    """Why the embedded server runs `appendfsync always`: under `everysec` Valkey (9.1.2 here)
    answers WAITAOF 1 before the fsync (redis/redis#13793 fixed the same flaw in Redis), so the
    relay's WAITAOF alone does not survive a machine crash. When this fails, Valkey is fixed."""
    losses = []
    for attempt in range(3):  # a stall of over a second between the writes hides the bug
        server = CrashableRedis(tmp_path / f"valkey{attempt}", lazy_disk, "everysec")
        server.start()
        redis = client(server.url)
        try:
            await asyncio.sleep(1.2)  # the first write then fsyncs at once, the next ones wait
            await redis.xadd(STREAM, {"n": 0})
            pipe = redis.pipeline(transaction=False)
            for n in range(1, 51):
                pipe.xadd(STREAM, {"n": n})
            pipe.execute_command("WAITAOF", 1, 0, 5000)
            *_ids, (local, _replicas) = await pipe.execute()
            assert local == 1, "WAITAOF did not confirm the local fsync"
            server.crash()
            server.start()
            losses.append(51 - await xlen(server.url))
        finally:
            await redis.aclose()
            server.stop()
        if losses[-1]:
            break
    assert any(losses), "WAITAOF under everysec now waits for the fsync: revisit the README"


@pytest.mark.parametrize(
    ("min_replicas", "loses"),
    [
        pytest.param(1, False, id="wait-keeps-every-mark"),
        pytest.param(0, True, id="no-wait-loses-marks"),
    ],
)
async def test_a_failover_to_a_lagging_replica_loses_no_event_marked_published_with_wait(
    tmp_path: Path, lazy_disk: Path, min_replicas: int, loses: bool
) -> None:
    primary = CrashableRedis(tmp_path / "primary", lazy_disk, "always")
    primary.start()
    replica = CrashableRedis(
        tmp_path / "replica", lazy_disk, "always", ("--replicaof", "127.0.0.1", str(primary.port))
    )
    replica.start()
    settings = make_settings(
        DeliverySettings, data_dir=tmp_path, redis_url=primary.url, database_url=None
    )
    redis, promoted = client(primary.url), client(replica.url)
    try:

        async def replicating() -> bool:
            info: Any = await promoted.info("replication")
            return info.get("master_link_status") == "up"

        await wait_for(replicating, timeout=30, what="the replica in sync")
        async with database(settings) as db:

            async def promote() -> None:
                # The replica is cut off and promoted (a partition, then a failover): what the
                # old primary takes from now on never reaches it.
                await promoted.execute_command("REPLICAOF", "NO", "ONE")

            relay = CrashingRelay(
                db, redis, batch=100, interval_ms=10, maxlen=1_000_000, durability="none",
                min_replicas=min_replicas, fsync_timeout_ms=2000, crash=primary.crash, after=10**9,
            )  # fmt: skip
            marked = await failover_mid_burst(relay, db, promote)
        on_promoted = await ids_on_stream(replica.url)
        lost = marked - on_promoted
        assert len(marked) >= 300, "the failover came before the burst was marked"
        if loses:
            assert lost, "marks without WAIT lost nothing: the failover is not real"
        else:
            assert not lost, f"{len(lost)} of {len(marked)} events marked published were lost"
    finally:
        await redis.aclose()
        await promoted.aclose()
        primary.stop()
        replica.stop()


async def failover_mid_burst(
    relay: CrashingRelay, db: Database, promote: Callable[[], Any]
) -> set[str]:
    """Relays a burst; promotes the replica after 300 marks, relays on, then kills the primary."""
    async with burst(db):
        relaying = asyncio.create_task(relay.run())
        try:

            async def marked(count: int) -> bool:
                return relay.published_total >= count

            await wait_for(lambda: marked(300), timeout=60, what="300 marks before the failover")
            await promote()
            before = relay.published_total

            async def relay_went_on() -> bool:
                # Without WAIT the old primary's marks go on; with it, WAIT fails and nothing
                # more is marked.
                return relay.published_total >= before + 300 or bool(relay.last_error)

            await wait_for(relay_went_on, timeout=60, what="the relay after the failover")
            relay.crash()
        finally:
            await stopped(relaying)
    return await published_ids(db)
