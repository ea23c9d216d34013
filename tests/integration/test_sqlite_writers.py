"""SQLite, the embedded default: a burst of writers in one process queues in Python and every
write lands; a writer that fails or rolls back hands the turn on; readers never wait for it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from shared.db_sqlite import Step, is_write, positional, sqlite_dbapi

pytestmark = pytest.mark.integration

metadata = MetaData()
notes = Table(
    "notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("body", String(40), nullable=False, unique=True),
)


async def _wal_engine(path: Path, timeout_s: float) -> AsyncEngine:
    """An engine on the project's SQLite adapter (a write turn of `timeout_s`), in WAL, with
    the notes table."""
    engine = create_async_engine(
        f"sqlite+aiosqlite:///{path}",
        module=sqlite_dbapi(timeout_s),
        connect_args={"timeout": timeout_s},
    )
    async with engine.begin() as conn:
        await conn.execute(text("PRAGMA journal_mode=WAL"))
        await conn.run_sync(metadata.create_all)
    return engine


async def test_a_burst_of_writers_all_commit_and_failures_release_the_turn(
    tmp_path: Path,
) -> None:
    # A short turn timeout: a turn that a rolled-back or failed writer kept would show here
    # as "database is locked" within seconds, not after the 30 s default.
    engine = await _wal_engine(tmp_path / "w.sqlite3", 5.0)
    try:

        async def write(i: int) -> None:
            async with engine.connect() as conn:
                await conn.execute(notes.insert().values(body=f"note {i}"))
                if i % 7 == 0:
                    await conn.rollback()  # changed its mind: nothing stored
                    return
                if i % 11 == 0:
                    # A duplicate: the statement fails inside the transaction.
                    await conn.execute(notes.insert().values(body=f"note {i}"))
                await conn.commit()

        outcomes = await asyncio.wait_for(
            asyncio.gather(*(write(i) for i in range(1, 121)), return_exceptions=True), 60
        )
        failed = [i for i, o in enumerate(outcomes, start=1) if isinstance(o, BaseException)]
        assert failed == [i for i in range(1, 121) if i % 11 == 0 and i % 7 != 0]
        assert all("UNIQUE" in str(outcomes[i - 1]) for i in failed)

        async with engine.connect() as conn:
            stored = await conn.scalar(select(func.count()).select_from(notes))
        assert stored == len([i for i in range(1, 121) if i % 7 and i % 11])

        # A writer holding its turn does not stop a reader (WAL), and the next writer waits.
        async with engine.connect() as holder:
            await holder.execute(notes.insert().values(body="held"))
            async with engine.connect() as reader:
                seen = await asyncio.wait_for(
                    reader.scalar(select(func.count()).select_from(notes)), 5
                )
            assert seen == stored  # the held row is not committed yet
            waiting = asyncio.create_task(write(1000))
            await asyncio.sleep(0.2)
            assert not waiting.done()
            await holder.commit()
        await asyncio.wait_for(waiting, 10)
    finally:
        await engine.dispose()


def test_what_counts_as_a_write() -> None:
    assert is_write("INSERT INTO notes (body) VALUES (?)")
    assert is_write("  update notes set body = ?")
    assert is_write("BEGIN IMMEDIATE")
    assert not is_write("SELECT * FROM notes")
    assert not is_write("PRAGMA journal_mode=WAL")
    assert not is_write("CREATE TABLE x (id INTEGER)")


async def test_statements_run_together_are_all_or_nothing_and_hand_the_turn_on(
    tmp_path: Path,
) -> None:
    engine = await _wal_engine(tmp_path / "t.sqlite3", 2.0)
    try:

        async def together(*bodies: str, required: str | None = None) -> list[list[Any]] | None:
            async with engine.connect() as conn:
                await conn.begin()  # as the session's: the commit below is the connection's
                adding = notes.insert().values(body=bindparam("body")).returning(notes.c.id)
                steps = [positional(adding, conn.dialect, {"body": body}) for body in bodies]
                if required is not None:
                    missing = select(notes.c.id).where(notes.c.body == required)
                    steps.append(positional(missing, conn.dialect, {}, required=True))
                raw = await conn.get_raw_connection()
                results = await raw.dbapi_connection.run_together(steps)  # type: ignore[union-attr]
                if results is None:
                    await conn.rollback()
                else:
                    await conn.commit()
                return results

        assert await together("a", "b") is not None
        assert await together("c", "a") is None  # "a" again breaks the unique constraint
        assert await together("d", required="nobody") is None
        done = await asyncio.wait_for(together("e", required="e"), 5)  # the turn was handed on
        assert done is not None and len(done) == 2
        async with engine.connect() as conn:
            stored = (await conn.scalars(select(notes.c.body).order_by(notes.c.id))).all()
        assert stored == ["a", "b", "e"]  # "c" and "d" were rolled back with their step
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            broken = Step("INSERT INTO nowhere VALUES (1)", ())
            with pytest.raises(OperationalError, match="no such table"):
                await raw.dbapi_connection.run_together([broken])  # type: ignore[union-attr]
    finally:
        await engine.dispose()


async def test_a_transaction_goes_to_the_connection_thread_once_per_statement_and_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each trip to aiosqlite's thread is a wake-up of that thread and of the event loop; a
    # consumer's transaction (mark INSERT, COMMIT) also paid a third, the pool's rollback
    # after the commit, which sqlite3 does not need outside a transaction.
    import aiosqlite.core

    from shared.db import Database
    from shared.settings import ServiceSettings

    trips: list[str] = []
    execute = aiosqlite.core.Connection._execute

    async def counted(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        trips.append(getattr(fn, "__name__", "?"))
        return await execute(self, fn, *args, **kwargs)

    db = Database(ServiceSettings(data_dir=tmp_path, database_url=None))
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        async with db.session() as session:  # the pool's connection is made and warmed
            await session.execute(select(func.count()).select_from(notes))
        monkeypatch.setattr(aiosqlite.core.Connection, "_execute", counted)
        async with db.session() as session:
            await session.execute(notes.insert().values(body="once"))
        assert trips == ["_run", "commit"]
        trips.clear()
        async with db.session() as session:  # reads only: no transaction to commit
            assert (await session.execute(select(notes.c.body))).scalars().all() == ["once"]
        assert trips == ["_run"]
        with pytest.raises(RuntimeError):
            async with db.session() as session:
                await session.execute(notes.insert().values(body="rolled back"))
                raise RuntimeError("the effect failed")
        async with db.session() as session:
            assert (await session.execute(select(notes.c.body))).scalars().all() == ["once"]
    finally:
        await db.dispose()
