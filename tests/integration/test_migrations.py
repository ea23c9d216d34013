"""Migrations are frozen and complete: `upgrade head` on an empty database gives the models."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from services.registry import SERVICES, entry
from shared.db import Database
from shared.migrations import upgrade
from shared.outbox import INFRA_METADATA

pytestmark = pytest.mark.integration


def target_metadata(name: str) -> MetaData:
    """The service's models plus the shared delivery tables, as one MetaData."""
    models = importlib.import_module(f"services.{name}.models")
    merged = MetaData()
    derived = getattr(models, "DERIVED_METADATA", MetaData())  # tables kept by triggers
    for metadata in (models.Base.metadata, INFRA_METADATA, derived):
        for table in metadata.tables.values():
            table.to_metadata(merged)
    return merged


def differences(connection: Connection, metadata: MetaData) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": False}
    )
    return [d for d in compare_metadata(context, metadata) if not _version_table(d)]


def _version_table(diff: Any) -> bool:
    return diff[0] == "remove_table" and diff[1].name == "alembic_version"


@pytest.mark.parametrize("name", SERVICES)
async def test_upgrade_head_on_an_empty_database_matches_the_models(
    name: str, settings_for: Callable[..., Any]
) -> None:
    service = entry(name)
    settings = settings_for(service.settings().__class__)
    await asyncio.to_thread(upgrade, settings, service.migrations)
    db = Database(settings)
    metadata = target_metadata(name)
    try:
        async with db.engine.connect() as conn:
            diff = await conn.run_sync(differences, metadata)
    finally:
        await db.dispose()
    assert diff == []
