"""The dispatcher's claim takes at most the batch it asks for, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from services.consultation import repository
from services.consultation.app import MIGRATIONS
from services.consultation.models import OutboundMessage
from services.consultation.settings import Settings
from shared.contracts import utcnow
from shared.db import Database
from shared.migrations import upgrade

pytestmark = pytest.mark.integration


async def test_a_claim_takes_only_its_limit_and_counts_only_their_attempts(
    settings_for: Callable[..., Settings],
) -> None:
    """Five messages due, claims of two: two each time, disjoint, the rest untouched (on
    PostgreSQL the LIMIT ... SKIP LOCKED subquery once ran again per row and took all five)."""
    settings = settings_for(Settings)
    await asyncio.to_thread(upgrade, settings, MIGRATIONS)
    db = Database(settings)
    try:
        now = utcnow()
        async with db.session() as session:
            session.add_all(
                OutboundMessage(
                    id=uuid.uuid4(),
                    tenant="mojosari",
                    to_phone=f"+6281400000{i:03d}",
                    body="halo",
                    kind="test",
                    status="queued",
                    attempts=0,
                    next_attempt_at=now - timedelta(seconds=i),
                    created_at=now,
                    rule="free_form",
                )
                for i in range(5)
            )
        lease = now + timedelta(seconds=120)
        claims = []
        for _ in range(2):
            async with db.session() as session:
                claims.append(
                    await repository.claim_due_messages(
                        session, now=utcnow(), limit=2, lease_until=lease
                    )
                )
        assert [len(c) for c in claims] == [2, 2]
        assert not {m.id for m in claims[0]} & {m.id for m in claims[1]}
        async with db.session() as session:
            attempts = sorted((await session.scalars(select(OutboundMessage.attempts))).all())
        assert attempts == [0, 1, 1, 1, 1]
    finally:
        await db.dispose()
