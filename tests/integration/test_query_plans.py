"""Every repository query of every service, on many tenants' data, reads by index.

Each service is migrated into PostgreSQL and its tables are filled with SEED_ROWS generated rows
spread over 666 tenants (values made from the column types, so new columns are filled too).
Then every function of every repository.py is called with arguments made from its annotations
(a tenant, ids, dates...), inside a transaction that is rolled back; every statement it sends is
EXPLAINed with its parameters, and a sequential scan of a seeded table fails the test.
Functions whose parameters are ORM rows only add them (an INSERT has no plan to check).
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import inspect
import typing
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    Uuid,
    event,
    insert,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import SERVICES, entry
from shared.db import Database
from shared.migrations import upgrade
from shared.outbox import INFRA_METADATA
from tests.support import make_settings

pytestmark = pytest.mark.integration
TENANTS = [f"kec{i:03d}" for i in range(666)]
SEED_ROWS = 10_000
NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
# Queries that read a whole table on purpose, with the reason; each is a known cost at scale.
WHOLE_TABLE_BY_DESIGN = {
    ("dashboard", "totals"): (
        "all tenants' all-time totals for the metrics scrape; daily_counts grows with tenants x "
        "days x metrics, not with events"
    ),
    ("survey", "lock_and_clear_aggregates"): (
        "menjamu survey rebuild empties the aggregates to recompute them: an operator's repair"
    ),
    ("survey", "stream_responses"): (
        "menjamu survey rebuild reads every stored response once: an operator's repair"
    ),
}
# Values for a function's **kwargs (annotations cannot say which names it takes).
EXTRA_KWARGS: dict[str, dict[str, Any]] = {
    "upsert_open_item": {"opened_at": NOW},
    # (score_sum, answered) per key: a pair, which an annotation of list[int] cannot say.
    "add_to_aggregates": {"sums": {("kec007", "kantor-kecamatan", NOW.date(), "U1"): [3, 1]}},
    # The hourly prune finds the few keys of the hour that just aged out, not the whole table.
    "prune_device_keys": {"before": NOW - timedelta(days=3650)},
}
NAMED = {
    "tenant": TENANTS[7],
    "phone": "+6281200000007",
    "code": "kantor-kecamatan",
    "unit": "kantor-kecamatan",
    "year": 2026,
    "limit": 50,
    "offset": 0,
    "status": "queued",
}


def column_value(column: Any, i: int, parents: dict[str, list[Any]]) -> Any:
    """A value for row i of a column, from its type (unique per row where that matters)."""
    if column.foreign_keys:
        target = next(iter(column.foreign_keys)).column.table.name
        return parents[target][i % len(parents[target])]
    kind = column.type
    if column.name == "tenant":
        return TENANTS[i % len(TENANTS)]
    if isinstance(kind, Uuid):
        return uuid.uuid4()
    if isinstance(kind, Boolean):
        return True
    if isinstance(kind, Integer | BigInteger):
        return i
    if isinstance(kind, DateTime):
        return NOW - timedelta(minutes=i)
    if isinstance(kind, Date):
        return (NOW - timedelta(days=i % 400)).date()
    if isinstance(kind, JSON):
        return {}
    if isinstance(kind, LargeBinary):
        return b"%PDF-1.7"
    if isinstance(kind, String | Text):
        text = "sent" if column.name == "status" else f"{column.name[:4]}-{i}"
        length = getattr(kind, "length", None)
        return text[-length:] if length else text
    raise AssertionError(f"no seed value for {column.table.name}.{column.name} ({kind})")


async def seed(db: Database, tables: Sequence[Table]) -> None:
    """Fills every table with SEED_ROWS rows (parents first), then ANALYZEs them."""
    parents: dict[str, list[Any]] = {}
    async with db.session() as session:
        for table in tables:
            columns = [c for c in table.columns if not (c.primary_key and c.autoincrement is True)]
            # A table keyed by the tenant alone holds one row per tenant, no more.
            keyed_by_tenant = [c.name for c in table.primary_key.columns] == ["tenant"]
            count = len(TENANTS) if keyed_by_tenant else SEED_ROWS
            rows = [{c.name: column_value(c, i, parents) for c in columns} for i in range(count)]
            await session.execute(insert(table), rows)
            pk = [c.name for c in table.primary_key.columns]
            if len(pk) == 1 and pk[0] in rows[0]:
                parents[table.name] = [row[pk[0]] for row in rows]
            await session.execute(_analyze(table))


def _analyze(table: Table) -> Any:
    from sqlalchemy import text

    return text(f'ANALYZE "{table.name}"')


def argument(name: str, hint: Any) -> Any:
    """An argument for a repository parameter, from its name and annotation."""
    if name in NAMED:
        return NAMED[name]
    origin = typing.get_origin(hint)
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return argument(name, args[0])
    if origin in (list, Sequence, typing.Sequence) or hint in (list, Sequence):
        return [argument(name, args[0] if args else str)]
    if origin in (dict, Mapping):
        return {argument(name, args[0]): argument(name, args[1])}
    if origin is tuple:
        return tuple(argument(name, a) for a in args if a is not Ellipsis)
    simple: dict[Any, Callable[[], Any]] = {
        uuid.UUID: uuid.uuid4,
        str: lambda: "x",
        int: lambda: 1,
        float: lambda: 1.0,
        bool: lambda: False,
        datetime: lambda: NOW,
        date: lambda: NOW.date(),
    }
    if hint in simple:
        return simple[hint]()
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        fields = typing.get_type_hints(hint)
        return hint(**{f.name: argument(f.name, fields[f.name]) for f in dataclasses.fields(hint)})
    raise LookupError(f"no test argument for parameter {name}: {hint}")


def is_row(hint: Any) -> bool:
    """True when a parameter takes ORM rows or a row's values (the function only adds them)."""
    if hint == dict[str, Any]:
        return True
    options = typing.get_args(hint) or (hint,)
    return any(hasattr(option, "__table__") for option in options)


def repository_functions(name: str) -> list[tuple[str, Callable[..., Any]]]:
    """The public async functions of a service's repository (a module or a package)."""
    module = importlib.import_module(f"services.{name}.repository")
    return [
        (fn_name, fn)
        for fn_name, fn in inspect.getmembers(module, inspect.iscoroutinefunction)
        if fn.__module__.split(".")[:3] == module.__name__.split(".")
        and not fn_name.startswith("_")
    ]


async def plans_of(session: AsyncSession, fn: Callable[..., Any]) -> list[tuple[str, Any]] | None:
    """Calls fn with made-up arguments; returns each statement it sent with its plan."""
    hints = typing.get_type_hints(fn)
    kwargs: dict[str, Any] = {}
    for param in list(inspect.signature(fn).parameters.values())[1:]:
        hint = hints.get(param.name, Any)
        if is_row(hint):
            return None
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        kwargs[param.name] = argument(param.name, hint)
    kwargs.update(EXTRA_KWARGS.get(fn.__name__, {}))
    sent: list[tuple[str, Any]] = []
    sync_conn = (await session.connection()).sync_connection
    assert sync_conn is not None

    def capture(_c: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        # A LOCK TABLE has no plan to check.
        if not statement.lstrip().upper().startswith(("EXPLAIN", "SAVEPOINT", "RELEASE", "LOCK")):
            sent.append((statement, params))

    event.listen(sync_conn, "before_cursor_execute", capture)
    try:
        async with session.begin_nested():
            await fn(session, **kwargs)
    finally:
        event.remove(sync_conn, "before_cursor_execute", capture)
    conn = await session.connection()
    plans = []
    for statement, params in sent:
        result = await conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", params)
        plans.append((statement, result.scalar()))
    return plans


def seq_scans(plan: Any, large: set[str]) -> list[str]:
    """Tables of `large` that a plan reads with a sequential scan."""
    found = []
    if isinstance(plan, dict):
        if plan.get("Node Type") == "Seq Scan" and plan.get("Relation Name") in large:
            found.append(plan["Relation Name"])
        for value in plan.values():
            found += seq_scans(value, large)
    elif isinstance(plan, list):
        for value in plan:
            found += seq_scans(value, large)
    return found


@pytest.mark.parametrize("name", SERVICES)
async def test_every_repository_query_reads_many_tenants_data_by_index(
    name: str, tmp_path: Path, pg_url: str, schema_prefix: str, redis_url: str
) -> None:
    service = entry(name)
    settings_cls = importlib.import_module(f"services.{name}.settings").Settings
    settings = make_settings(
        settings_cls,
        data_dir=tmp_path,
        redis_url=redis_url,
        database_url=pg_url,
        schema_prefix=schema_prefix,
    )
    await asyncio.to_thread(upgrade, settings, service.migrations)
    base = importlib.import_module(f"services.{name}.models").Base
    tables = [*base.metadata.sorted_tables, *INFRA_METADATA.sorted_tables]
    db = Database(settings)
    problems, checked = [], 0
    try:
        await seed(db, tables)
        large = {t.name for t in tables}
        async with db.sessionmaker() as session:
            for fn_name, fn in repository_functions(name):
                try:
                    plans = await plans_of(session, fn)
                except LookupError as exc:
                    problems.append(f"{fn_name}: {exc} (teach argument() this parameter)")
                    continue
                for statement, plan in plans or []:
                    checked += 1
                    if (name, fn_name) in WHOLE_TABLE_BY_DESIGN:
                        continue
                    for table in seq_scans(plan, large):
                        problems.append(f"{fn_name}: Seq Scan on {table}\n  {statement}")
            # The check itself: a filter no index can serve (upper(tenant)) must show up.
            probe = next(c for t in tables for c in t.columns if c.name == "tenant")
            sql = f'SELECT * FROM "{probe.table.name}" WHERE upper({probe.name}) = $1'
            plan = (
                await (await session.connection()).exec_driver_sql(
                    f"EXPLAIN (FORMAT JSON) {sql}", ("X",)
                )
            ).scalar()
            assert seq_scans(plan, large) == [probe.table.name]
            await session.rollback()
    finally:
        await db.dispose()
    assert not problems, f"{name}:\n" + "\n".join(problems)
    assert checked >= len(repository_functions(name)) // 2, "too few statements were checked"
    print(f"{name}: {checked} statements of {len(repository_functions(name))} functions")
