"""The frozen delivery-table steps (shared/migration_ops.py) give every service the same tables.

`test_migrations.py` compares columns and index names with the models; this pins what that
comparison does not see: the partial index on unpublished outbox rows, and a downgrade to base
and back that leaves the same delivery tables.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text

from services.registry import SERVICES, entry
from shared.db import Database
from shared.migrations import alembic_config

pytestmark = pytest.mark.integration

DELIVERY_INDEXES = {
    "ix_outbox_unpublished",
    "ix_outbox_published_at",
    "ix_processed_events_processed_at",
}


async def _delivery_indexes(db: Database, schema: str) -> dict[str, str]:
    async with db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            rows = await conn.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
            )
        else:
            rows = await conn.execute(
                text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = :schema"),
                {"schema": schema},
            )
        return {name: sql for name, sql in rows.all() if name in DELIVERY_INDEXES}


def _round_trip(settings: Any, migrations: Any) -> None:
    config = alembic_config(settings, migrations)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    command.upgrade(config, "head")


@pytest.mark.parametrize("name", SERVICES)
async def test_every_service_gets_the_same_delivery_indexes_after_a_round_trip(
    name: str, settings_for: Callable[..., Any]
) -> None:
    service = entry(name)
    settings = settings_for(service.settings().__class__)
    await asyncio.to_thread(_round_trip, settings, service.migrations)
    db = Database(settings)
    try:
        indexes = await _delivery_indexes(db, settings.schema_name)
    finally:
        await db.dispose()
    assert set(indexes) == DELIVERY_INDEXES
    unpublished = " ".join(indexes["ix_outbox_unpublished"].split()).lower()
    assert "where" in unpublished and "published_at is null" in unpublished
    assert "where" not in indexes["ix_outbox_published_at"].lower()
