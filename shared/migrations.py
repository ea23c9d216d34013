"""Alembic per service: one migrations/ folder each, run as a step before the app starts."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from shared.settings import ServiceSettings


def alembic_config(settings: ServiceSettings, migrations_dir: Path) -> Config:
    """Builds an alembic Config for one service without an alembic.ini file."""
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.attributes["settings"] = settings
    return cfg


def upgrade(settings: ServiceSettings, migrations_dir: Path, revision: str = "head") -> None:
    """Migrates one service's database to `revision` (blocking: call it before the app starts)."""
    command.upgrade(alembic_config(settings, migrations_dir), revision)


def run_env(target_metadata: MetaData) -> None:
    """Body of every service's migrations/env.py: online migrations on the async engine."""
    from alembic import context

    settings: ServiceSettings = context.config.attributes["settings"]

    def do_run(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run_async() -> None:
        from shared.db import engine_options

        url, options = engine_options(settings)
        engine = create_async_engine(url, **options)
        try:
            async with engine.connect() as connection:
                if connection.dialect.name == "postgresql":
                    await connection.execute(
                        text(f'CREATE SCHEMA IF NOT EXISTS "{settings.schema_name}"')
                    )
                    await connection.commit()
                await connection.run_sync(do_run)
                await connection.commit()
        finally:
            await engine.dispose()

    asyncio.run(run_async())
