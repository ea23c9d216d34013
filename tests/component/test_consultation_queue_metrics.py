"""The outbound-queue metric stays exact while it reads only the live queue and a totals table."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import pytest
from sqlalchemy import delete, func, insert, select, update

from services.consultation.app import MIGRATIONS
from services.consultation.models import OutboundMessage
from services.consultation.queue_metrics import outbound_queue_metrics
from services.consultation.settings import Settings
from shared.db import Database
from shared.migrations import upgrade
from shared.runtime import Runtime

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC)


def message(tenant: str, status: str, due_in: timedelta = timedelta(0)) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "tenant": tenant,
        "to_phone": "+6281200000001",
        "body": "undangan",
        "kind": "group_invitation",
        "status": status,
        "attempts": 0,
        "next_attempt_at": NOW + due_in,
        "created_at": NOW,
    }


async def metric_values(db: Database) -> dict[tuple[str, str], float]:
    runtime = cast(Runtime, SimpleNamespace(db=db, tenants={"alpha": None, "beta": None}))
    (family,) = await outbound_queue_metrics(runtime)
    return {(s.labels["tenant"], s.labels["state"]): s.value for s in family.samples}


async def test_queue_metric_counts_every_state_after_inserts_changes_and_deletes(
    settings_for: Callable[..., Settings],
) -> None:
    settings = settings_for(Settings)
    # Rows from before the totals table: the migration counts them once.
    await asyncio.to_thread(upgrade, settings, MIGRATIONS, "0003")
    db = Database(settings)
    try:
        old = [message("alpha", "sent"), message("alpha", "sent"), message("beta", "failed")]
        async with db.session() as session:
            await session.execute(insert(OutboundMessage), old)
        await asyncio.to_thread(upgrade, settings, MIGRATIONS)

        due, later = message("alpha", "queued"), message("alpha", "queued", timedelta(hours=1))
        async with db.session() as session:
            session.add_all([OutboundMessage(**due), OutboundMessage(**later)])
            session.add(OutboundMessage(**message("beta", "queued")))
        async with db.session() as session:  # the sender marks one sent (ORM flush)
            row = await session.get(OutboundMessage, due["id"])
            assert row is not None
            row.status = "sent"
        async with db.session() as session:  # a bulk statement fails another
            await session.execute(
                update(OutboundMessage)
                .where(OutboundMessage.tenant == "beta", OutboundMessage.status == "queued")
                .values(status="failed")
            )
            await session.execute(delete(OutboundMessage).where(OutboundMessage.id == old[0]["id"]))

        values = await metric_values(db)
        assert values == {
            ("alpha", "queued"): 1.0,  # the one due in an hour
            ("alpha", "due"): 0.0,
            ("alpha", "sent"): 2.0,  # one old (one deleted), one new
            ("alpha", "failed"): 0.0,
            ("beta", "queued"): 0.0,
            ("beta", "due"): 0.0,
            ("beta", "sent"): 0.0,
            ("beta", "failed"): 2.0,
        }
        # The same as counting the whole table, the way the scrape used to.
        async with db.session() as session:
            query = select(OutboundMessage.tenant, OutboundMessage.status, func.count())
            rows = await session.execute(
                query.group_by(OutboundMessage.tenant, OutboundMessage.status)
            )
            for tenant, status, count in rows.all():
                if status != "queued":
                    assert values[(tenant, status)] == count
    finally:
        await db.dispose()
