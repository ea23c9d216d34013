"""Async database access: one engine per service, sessions that commit or roll back."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from shared.db_sqlite import sqlite_dbapi
from shared.settings import ServiceSettings

AFTER_COMMIT_FLAG = "menjamu_after_commit"


def engine_options(settings: ServiceSettings) -> tuple[str, dict[str, Any]]:
    """Returns the URL and engine options: search_path per service on PostgreSQL."""
    url = settings.effective_database_url
    if url.startswith("postgresql"):
        # No pre-ping (a round trip per checkout): a checkout looks at the socket instead
        # (_drop_closed), and pool_recycle retires connections a firewall may have cut.
        # 20 kept, none on overflow: the same ceiling as 10 + 10 overflow, but a burst no longer
        # closes and reopens connections (each a connect and new prepared statements: 7% of a
        # survey POST's CPU at concurrency 20).
        return url, {
            "pool_recycle": 1800,
            "pool_size": 20,
            "max_overflow": 0,
            "connect_args": {"server_settings": {"search_path": settings.schema_name}},
        }
    if url.startswith("sqlite"):
        Path(url.split("///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
        timeout_s = settings.sqlite_busy_timeout_ms / 1000
        options: dict[str, Any] = {"connect_args": {"timeout": timeout_s}}
        if url.startswith("sqlite+aiosqlite"):
            options["module"] = sqlite_dbapi(timeout_s)  # one hop per statement; writers queue
        return url, options
    return url, {}


def _sqlite_pragmas(busy_timeout_ms: int) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        _set_sqlite_pragmas(dbapi_connection, busy_timeout_ms)

    return on_connect


def _set_sqlite_pragmas(dbapi_connection: Any, busy_timeout_ms: int) -> None:
    # WAL lets the relay read while a request writes; busy_timeout waits for a lock instead of
    # failing at once (past it, "database is locked" is a transient failure: retried).
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _drop_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    # asyncpg notices a server-side close (a restart) on the idle socket; hand out another.
    driver = getattr(dbapi_connection, "driver_connection", None)
    if driver is not None and driver.is_closed():
        raise DisconnectionError("connection closed by the server")


class Database:
    """One service's engine and session factory."""

    def __init__(self, settings: ServiceSettings) -> None:
        url, options = engine_options(settings)
        self.settings = settings
        self.engine: AsyncEngine = create_async_engine(url, **options)
        self.dialect = self.engine.dialect.name
        if self.dialect == "sqlite":
            pragmas = _sqlite_pragmas(settings.sqlite_busy_timeout_ms)
            event.listen(self.engine.sync_engine, "connect", pragmas)
        if self.dialect == "postgresql":
            event.listen(self.engine.sync_engine.pool, "checkout", _drop_closed)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        self.after_commit: list[Callable[[], None]] = []

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """Yields a session that commits on success and rolls back on any error."""
        session = self.sessionmaker()
        try:
            yield session
        except BaseException:
            await self.end_session(session, failed=True)
            raise
        await self.end_session(session, failed=False)

    async def end_session(self, session: AsyncSession, *, failed: bool) -> None:
        """Commits a session (or rolls it back when its work failed), closes it, and runs the
        after-commit hooks when its work asked for them (shared.db.mark_after_commit)."""
        try:
            if failed:
                await session.rollback()
            else:
                try:
                    await session.commit()
                except BaseException:
                    await session.rollback()
                    raise
        finally:
            await session.close()
        if not failed and session.info.pop(AFTER_COMMIT_FLAG, False):
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


def insert_for(session: AsyncSession | str, target: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into `target` that takes ON CONFLICT clauses, in the session's database dialect.

    `session` may also be the dialect's name ("postgresql" or "sqlite") where no session is
    at hand. Both dialects' Insert offer `on_conflict_do_nothing/_update` and `excluded`.
    """
    dialect = session if isinstance(session, str) else session.get_bind().dialect.name
    return postgresql.insert(target) if dialect == "postgresql" else sqlite.insert(target)
