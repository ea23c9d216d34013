"""SQLite through aiosqlite with one thread hop per statement, and writers queued in Python.

aiosqlite runs each sqlite3 call in its connection's thread and SQLAlchemy's adapter makes four
of them per statement (create the cursor, execute, fetch, close), each a queue put, a thread
wake-up and a wake-up of the event loop. This adapter runs the four in one call on that thread:
the same sqlite3 calls in the same order, one hop. A public POST runs about eight statements.

SQLite has one writer at a time. Left to itself, a pooled connection that wants to write while
another holds the lock sleeps in SQLite's busy handler (1, 2, 5 ... 100 ms naps) and wakes late,
so a burst of writers leaves the lock idle between them and latencies pile up. Here a
connection's first write of a transaction waits for the process's write turn (an asyncio lock,
first come first served) and keeps it until commit or rollback: writes queue in Python and the
next one starts as soon as the last commits; reads (WAL) never wait. Waiting more than
`timeout` (the busy timeout, `sqlite_busy_timeout_ms`, 10 s by default) fails as SQLite
would ("database is locked"). Other processes on the same file are still kept apart by
SQLite's own lock.
Used by shared.db through `create_async_engine(..., module=sqlite_dbapi())`.
"""

from __future__ import annotations

import asyncio
import collections
import sqlite3
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

_Outcome = tuple[Any, int, int | None, Sequence[Any], bool]
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "BEGIN IMMEDIATE", "BEGIN EXCLUSIVE")


def _run(conn: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    """On the connection's thread: execute, fetch every row, close the cursor."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else ()
        return description, cursor.rowcount, cursor.lastrowid, rows, conn.in_transaction
    finally:
        cursor.close()


@dataclass(frozen=True)
class Step:
    """One statement of OneHopConnection.run_together: SQL, positional parameters, and whether
    it must return a row for the next to run."""

    sql: str
    parameters: tuple[Any, ...]
    required: bool = False


def _run_together(conn: sqlite3.Connection, steps: Sequence[Step]) -> list[list[Any]] | None:
    """On the connection's thread: the steps in order (see OneHopConnection.run_together)."""
    if not conn.in_transaction:
        conn.execute("BEGIN IMMEDIATE")
    results = []
    try:
        for step in steps:
            rows = conn.execute(step.sql, step.parameters).fetchall()
            if step.required and not rows:
                return None
            results.append(rows)
    except sqlite3.IntegrityError:
        return None
    return results


def positional(
    statement: ClauseElement, dialect: Dialect, values: dict[str, Any], *, required: bool = False
) -> Step:
    """A SQLAlchemy statement as SQLite SQL with its parameters, processed as SQLAlchemy would
    bind them (UUIDs, dates, booleans); compiled once per statement and dialect."""
    key = (id(statement), id(dialect))
    compiled = _COMPILED.get(key)
    if compiled is None:
        sql = cast(SQLCompiler, statement.compile(dialect=dialect))
        processors = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect)
            for name, bind in sql.binds.items()
        }
        # The statement is kept with its compiled form: its id stays its own.
        compiled = _COMPILED[key] = (statement, sql, list(sql.positiontup or ()), processors)
    _statement, sql, names, processors = compiled
    params = sql.construct_params(values)
    return Step(
        sql.string,
        tuple(
            processor(params[name]) if (processor := processors.get(name)) else params[name]
            for name in names
        ),
        required,
    )


_COMPILED: dict[tuple[int, int], tuple[ClauseElement, SQLCompiler, list[str], dict[str, Any]]] = {}


def is_write(operation: str) -> bool:
    """Tells whether a statement takes SQLite's write lock (DML, or BEGIN IMMEDIATE)."""
    return operation.lstrip()[:15].upper().startswith(_WRITES)


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose execute is one call on the connection's thread."""

    __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        # No aiosqlite cursor (that was a hop of its own): each execute opens and closes one.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    async def _async_soft_close(self) -> None:
        return None  # the sqlite3 cursor is closed already

    def close(self) -> None:
        self._rows.clear()

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        await self._call(operation, parameters, many=False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        await self._call(operation, seq_of_parameters, many=True)

    async def _call(self, operation: Any, parameters: Any, *, many: bool) -> None:
        adapted: Any = self._adapt_connection
        async with adapted._execute_mutex:
            if is_write(operation):
                await adapted.take_turn()
            conn: Any = self._connection
            outcome = await conn._execute(_run, conn._conn, operation, parameters, many)
        self._description, self._rowcount, self._lastrowid, rows, in_transaction = outcome
        self._rows = collections.deque(rows)
        if not in_transaction:  # autocommit: the write is done
            adapted.end_turn()

    def nextset(self) -> None:
        return None  # sqlite3 has one result set per statement

    def setinputsizes(self, *inputsizes: Any) -> None:
        return None


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    """SQLAlchemy's aiosqlite connection with the one-hop cursor and the write turn."""

    __slots__ = ("_turn",)
    _cursor_cls = OneHopCursor  # type: ignore[assignment]
    dbapi: OneHopDbapi

    def __init__(self, dbapi: OneHopDbapi, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self._turn: asyncio.Lock | None = None

    async def take_turn(self) -> None:
        """Waits for the process's write turn on this database (kept until end_turn)."""
        if self._turn is not None:
            return
        turn = self.dbapi.write_turn()
        try:
            async with asyncio.timeout(self.dbapi.timeout_s):
                await turn.acquire()
        except TimeoutError:
            raise sqlite3.OperationalError("database is locked") from None
        self._turn = turn

    def end_turn(self) -> None:
        """Hands the write turn to the next writer (after commit, rollback or close)."""
        turn, self._turn = self._turn, None
        if turn is not None:
            turn.release()

    async def run_together(self, steps: Sequence[Step]) -> list[list[Any]] | None:
        """Runs statements in order in one hop, in the connection's transaction (begun with
        BEGIN IMMEDIATE when none is open; the caller commits or rolls back). None, and the
        rest not run, when a `required` statement returns no row or one breaks a constraint."""
        async with self._execute_mutex:
            await self.take_turn()
            conn: Any = self._connection
            try:
                return await conn._execute(_run_together, conn._conn, steps)
            except sqlite3.Error as error:  # as SQLAlchemy would raise it (shared.transient)
                raise DBAPIError.instance(None, None, error, sqlite3.Error) from error

    def _in_transaction(self) -> bool:
        """Whether the sqlite3 connection has a transaction open (read without a thread hop:
        no statement runs on it meanwhile, SQLAlchemy uses a connection for one thing at a
        time)."""
        raw: sqlite3.Connection | None = getattr(self._connection, "_connection", None)
        return raw is None or raw.in_transaction  # None: closed, let aiosqlite say so

    def commit(self) -> None:
        # Outside a transaction sqlite3's commit and rollback do nothing, yet each was a hop to
        # the connection's thread: the pool's reset after every commit (a rollback) and the
        # commit of a session that only read. Skipped, the same calls happen on that thread.
        try:
            if self._in_transaction():
                super().commit()
        finally:
            self.end_turn()

    def rollback(self) -> None:
        try:
            if self._in_transaction():
                super().rollback()
        finally:
            self.end_turn()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.end_turn()

    def terminate(self) -> None:
        try:
            super().terminate()
        finally:
            self.end_turn()


class OneHopDbapi(AsyncAdapt_aiosqlite_dbapi):
    """SQLAlchemy's aiosqlite DBAPI module, connecting with OneHopConnection (one per engine,
    so one write turn per database file and event loop)."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__(aiosqlite, sqlite3)
        self.timeout_s = timeout_s
        self._turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def write_turn(self) -> asyncio.Lock:
        """The write turn of the running event loop (a lock belongs to one loop)."""
        loop = asyncio.get_running_loop()
        turn = self._turns.get(loop)
        if turn is None:
            turn = self._turns[loop] = asyncio.Lock()
        return turn

    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        connection = self.aiosqlite.connect(*arg, **kw)
        getattr(connection, "_thread", connection).daemon = True  # as SQLAlchemy does
        return OneHopConnection(self, await_(connection))


def sqlite_dbapi(timeout_s: float = 30.0) -> OneHopDbapi:
    """The DBAPI module to pass as `module=` to create_async_engine for an aiosqlite URL."""
    return OneHopDbapi(timeout_s)
