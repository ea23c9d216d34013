"""Async database access: one engine per service, sessions that commit or roll back."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, exc, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from shared.settings import ServiceSettings

AFTER_COMMIT_FLAG = "menjamu_after_commit"
# A pooled connection idle longer than this is pinged before use. SQLAlchemy's pool_pre_ping
# pings on every checkout: three round trips (BEGIN, SELECT, ROLLBACK) with asyncpg, a tenth of
# a busy consumer's CPU. A connection used a moment ago is alive or its failure surfaces as a
# disconnect error, which invalidates the whole pool (the caller's retry reconnects).
PING_AFTER_IDLE_S = 2.0


def engine_options(settings: ServiceSettings) -> tuple[str, dict[str, Any]]:
    """Returns the URL and engine options: search_path per service on PostgreSQL."""
    url = settings.effective_database_url
    if url.startswith("postgresql"):
        return url, {
            # Pinged on checkout only after an idle spell (see _ping_if_idle), not every time.
            "pool_size": 10,
            "connect_args": {"server_settings": {"search_path": settings.schema_name}},
        }
    if url.startswith("sqlite"):
        Path(url.split("///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
        return url, {"connect_args": {"timeout": 30}}
    return url, {}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the relay read while a request writes; busy_timeout waits instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _ping_idle_connections(engine: AsyncEngine) -> None:
    """Pings a pooled connection before use when it sat idle; a dead one is replaced."""
    pool, dialect = engine.sync_engine.pool, engine.sync_engine.dialect

    def checkin(_dbapi: Any, record: Any) -> None:
        if record is not None:
            record.info["menjamu_idle_since"] = time.monotonic()

    def checkout(dbapi: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("menjamu_idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_S:
            return  # a new connection, or one just used
        try:
            dialect.do_ping(dbapi)
        except Exception as error:  # the pool discards it and checks out another
            raise exc.DisconnectionError(str(error)) from error

    event.listen(pool, "checkin", checkin)
    event.listen(pool, "checkout", checkout)


class Database:
    """One service's engine and session factory."""

    def __init__(self, settings: ServiceSettings) -> None:
        url, options = engine_options(settings)
        self.settings = settings
        self.engine: AsyncEngine = create_async_engine(url, **options)
        self.dialect = self.engine.dialect.name
        if self.dialect == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        else:
            _ping_idle_connections(self.engine)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        self.after_commit: list[Callable[[], None]] = []

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """Yields a session that commits on success and rolls back on any error."""
        async with self.sessionmaker() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
            if session.info.pop(AFTER_COMMIT_FLAG, False):
                for hook in self.after_commit:
                    hook()

    async def ping(self) -> None:
        """Raises when the database cannot answer a trivial query."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        """Closes every pooled connection."""
        await self.engine.dispose()


def mark_after_commit(session: AsyncSession) -> None:
    """Asks the session's owner to run the after-commit hooks (e.g. wake the outbox relay)."""
    session.info[AFTER_COMMIT_FLAG] = True
