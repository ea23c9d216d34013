"""What the dashboard's read model costs per event: one transaction per event (as a
single-message consumer pays) against batches of 100 (what its batched consumer does).

SQLite, as on the embedded default; each event is journaled and adds four daily counters.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from benchmarks._common import Result, env_int
from benchmarks._infra import sample_event
from services.dashboard import service
from services.dashboard.app import MIGRATIONS
from services.dashboard.settings import Settings
from shared.db import Database
from shared.migrations import upgrade

NOTE = "The dashboard's consumer groups read with batch=True, so the second row is its cost."


async def _fold(n: int, per_transaction: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder), database_url=None)
        await asyncio.to_thread(upgrade, settings, MIGRATIONS)
        db = Database(settings)
        events = [sample_event(i) for i in range(n)]
        started = time.perf_counter()
        for start in range(0, n, per_transaction):
            async with db.session() as session:
                for event in events[start : start + per_transaction]:
                    await service.record_event(session, event, "Asia/Jakarta")
        elapsed = time.perf_counter() - started
        await db.dispose()
        return elapsed


async def run() -> list[Result]:
    """Events folded per second, one per transaction (baseline) and 100 per transaction."""
    n = env_int("MENJAMU_BENCH_EVENTS", 2000)
    base = "read model, one event per transaction, SQLite (baseline)"
    return [
        Result(base, n, await _fold(n, 1), baseline=base),
        Result("read model, 100 events per transaction, SQLite", n, await _fold(n, 100), base),
    ]
