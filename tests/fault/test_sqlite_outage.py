"""A SQLite database locked by another process, or its files made unwritable, for longer than the
dead-letter limit: the messages read meanwhile are retried with back-off, none is dead-lettered,
and each applies once when the database is back."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy import select

from shared.db import Database
from shared.streams import dlq_stream
from tests.factories import publish
from tests.integration.test_delivery import DeliverySettings, database, effects, event
from tests.integration.test_outages import STREAM, quiet, running
from tests.support import make_settings, wait_for

pytestmark = [pytest.mark.fault, pytest.mark.integration]

# Another process takes SQLite's write lock and keeps it until its stdin closes (what a backup,
# a long migration or an operator's open `sqlite3` shell does).
HOLD_WRITE_LOCK = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()
conn.execute("COMMIT")
"""


@contextmanager
def write_lock_held(path: Path) -> Iterator[subprocess.Popen[str]]:
    """Holds the database's write lock in another process until the block ends."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITE_LOCK, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        yield holder
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(30)


@contextmanager
def made_unwritable(path: Path) -> Iterator[None]:
    """Makes the database file and its write-ahead log immutable (chattr +i) until the block
    ends: open connections get "disk I/O error", new ones "attempt to write a readonly
    database" (root ignores file modes, so chmod cannot do it). The -shm file stays writable:
    SQLite maps it, and an immutable map kills the process (SIGBUS)."""
    files = [str(path), f"{path}-wal"]
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", *files], capture_output=True).returncode:
        pytest.skip("chattr +i is not available here (needs root and ext4/xfs/btrfs)")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", *files], check=True)


OUTAGES: dict[str, Callable[[Path], AbstractContextManager[object]]] = {
    "locked": write_lock_held,
    "unwritable": made_unwritable,
}


async def units(db: Database) -> list[str]:
    """The unit of every effect row (each event of the test has its own)."""
    async with db.session() as session:
        return sorted(row[0] for row in await session.execute(select(effects.c.unit)))


@pytest.mark.parametrize("outage", sorted(OUTAGES))
async def test_a_sqlite_outage_longer_than_the_dead_letter_limit_loses_and_repeats_nothing(
    tmp_path: Path, redis_url: str, outage: str
) -> None:
    settings = make_settings(
        DeliverySettings,
        data_dir=tmp_path,
        redis_url=redis_url,
        database_url=None,
        retry_base_ms=50,
        retry_max_ms=400,
        sqlite_busy_timeout_ms=200,  # past it a write fails "database is locked"
    )
    path = Path(settings.effective_database_url.split("///", 1)[1])
    redis = Redis.from_url(redis_url)
    async with database(settings) as db, running(settings) as runtime:
        for i in range(5):
            await publish(redis, event(f"before-{i:02d}"))
        expected = [f"before-{i:02d}" for i in range(5)]
        await wait_for(lambda: _units_are(db, expected), timeout=30, what="5 effects first")

        with OUTAGES[outage](path):
            for i in range(20):
                await publish(redis, event(f"during-{i:02d}"))

            async def paused() -> bool:
                report = await runtime.readiness()
                return report["checks"].get("consumers") == "paused: database unavailable"

            await wait_for(paused, timeout=30, what="/ready to name the database")
            # Longer than max_deliveries x claim_idle_ms: every message read during the lock
            # would be dead-lettered if a locked file counted as a failed delivery.
            outage = settings.max_deliveries * settings.claim_idle_ms / 1000 * 2
            await asyncio.sleep(outage)
            assert await units(db) == expected
            assert await redis.xlen(dlq_stream(STREAM)) == 0
            assert (await runtime.readiness())["checks"]["consumers"].startswith("paused")

        expected += [f"during-{i:02d}" for i in range(20)]
        await wait_for(lambda: _units_are(db, expected), timeout=60, what="25 effects after")
        await wait_for(lambda: quiet(redis), timeout=30, what="the group quiet")
        assert await units(db) == expected  # each exactly once
        assert await redis.xlen(dlq_stream(STREAM)) == 0
        assert (await runtime.readiness())["ready"]
    await redis.aclose()


async def _units_are(db: Database, expected: list[str]) -> bool:
    return await units(db) == sorted(expected)
