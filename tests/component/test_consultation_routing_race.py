"""Routing under concurrency: many conversations routed at once never overfill a mentor."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from services.consultation import assignment, mentors
from services.consultation.app import MIGRATIONS
from services.consultation.config import tenant_config
from services.consultation.models import Conversation, Mentor
from services.consultation.settings import Settings
from shared.contracts import utcnow
from shared.db import Database
from shared.migrations import upgrade
from shared.tenants import load_tenants

pytestmark = pytest.mark.integration


async def test_parallel_routing_on_two_engines_fills_each_mentor_exactly_to_capacity(
    settings_for: Callable[..., Settings],
) -> None:
    settings = settings_for(Settings)
    await asyncio.to_thread(upgrade, settings, MIGRATIONS)
    config = tenant_config(load_tenants(settings.tenants_dir)["mojosari"])
    replicas = [Database(settings), Database(settings)]  # two processes' engines
    now = utcnow()
    try:
        async with replicas[0].session() as session:
            for name in ("A", "B"):
                mentor = await mentors.add_mentor(
                    session,
                    tenant="mojosari",
                    name=name,
                    phone="+6281200000001",
                    topics=["KK"],
                    capacity=3,
                    now=now,
                )
                mentor.duty = "on"
            conversations = [
                Conversation(
                    id=uuid.uuid4(),
                    tenant="mojosari",
                    phone=f"+62813{i:08d}",
                    topic="KK",
                    status="bot",
                    created_at=now,
                    last_inbound_at=now,
                    reassignments=0,
                    correlation_id=f"c{i}",
                )
                for i in range(12)
            ]
            session.add_all(conversations)

        async def route(db: Database, conversation_id: uuid.UUID) -> None:
            for attempt in range(
                20
            ):  # SQLite may refuse a stale writer: retry as a redelivery would
                try:
                    async with db.session() as session:
                        conv = await session.get(Conversation, conversation_id)
                        assert conv is not None
                        await assignment.route(
                            session, config, conv, utcnow(), timedelta(minutes=5)
                        )
                    return
                except Exception:
                    if attempt == 19:
                        raise
                    await asyncio.sleep(0.05 * (attempt + 1))

        await asyncio.gather(*(route(replicas[i % 2], c.id) for i, c in enumerate(conversations)))
        async with replicas[0].session() as session:
            loads = {m.name: m.open_count for m in await session.scalars(select(Mentor))}
            states = [c.status for c in await session.scalars(select(Conversation))]
            owners = [c.mentor_id for c in await session.scalars(select(Conversation))]
        assert loads == {"A": 3, "B": 3}
        assert sorted(states) == ["assigned"] * 6 + ["queued"] * 6
        assert sum(1 for o in owners if o is not None) == 6
    finally:
        for db in replicas:
            await db.dispose()
