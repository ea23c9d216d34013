"""Periodic work: reassign conversations past their SLA, drain queues as mentors free up."""

from __future__ import annotations

import asyncio

from services.consultation import assignment
from services.consultation.handlers import Parts
from shared.aio import stop_if_cancelled
from shared.db import Database
from shared.logging import get_logger
from shared.outbox import add_event

log = get_logger(__name__)


async def sweep_once(db: Database, parts: Parts) -> int:
    """One pass over every tenant; returns how many conversations were (re)assigned."""
    now, sla = parts.clock.now(), parts.sla
    async with db.session() as session:
        events = await assignment.reassign_overdue(session, parts.configs, now, sla)
        for config in parts.configs.values():
            events += await assignment.drain_queue(session, config, now, sla)
        for event in events:
            await add_event(session, event)
    return len(events)


async def run(db: Database, parts: Parts) -> None:
    """Sweeps forever at the configured interval; survives any error."""
    while True:
        await asyncio.sleep(parts.settings.sweep_interval_s)
        stop_if_cancelled()
        try:
            moved = await sweep_once(db, parts)
            if moved:
                log.info("consultation.sweep", assigned=moved)
        except Exception:
            log.exception("consultation.sweep_failed")
