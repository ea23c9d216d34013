"""The yearly IKM report over 1,000,000 responses: from the aggregates vs SQL over the responses.

One year of responses (MENJAMU_BENCH_REPORT_N, 1,000,000) over four units is written to a fresh
survey database (PostgreSQL schema by COPY; SQLite when PostgreSQL does not answer), together
with the aggregates the service keeps (folded by the service's own code). Then:
- baseline: the same headline numbers by SQL over the raw responses (per unsur sum and count
  from the JSON scores, response count), for the year, all units;
- the service: `reporting.ikm_report(period="2025")` for all units (headline, per unsur, trend,
  units side by side, profiles, guided), which reads only the aggregates.
Both give the same per-unsur totals (checked). Times are medians of repeated runs.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import statistics
import tempfile
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from time import perf_counter
from typing import Any

import asyncpg
from sqlalchemy import text

from benchmarks._common import Result, env_int
from benchmarks._infra import PG_URL, REDIS_URL, _pg_execute, pg_reachable
from services.survey import aggregates, reporting
from services.survey.aggregation import Counted, Fold
from services.survey.app import MIGRATIONS
from services.survey.settings import Settings
from shared.db import Database
from shared.migrations import upgrade
from shared.tenants import load_tenants

N = env_int("MENJAMU_BENCH_REPORT_N", 1_000_000)
RUNS = 15
UNITS = ("kantor-kecamatan", "si-genz-menjamu", "loket-kk", "loket-akta")
CODES = [f"U{i}" for i in range(1, 10)]
SQL_PATH = "SQL over the raw responses (baseline)"
NOTE = "ratio = speed of the row / speed of the baseline (higher is faster); time = median."


def generate(n: int) -> tuple[list[tuple[Any, ...]], Fold]:
    """n responses over 2025 (rows for COPY) and the aggregates the aggregator would hold."""
    rng = random.Random(3)
    fold = Fold()
    rows = []
    choices = (1, 2, 3, 3, 4, 4, 4, None)
    for i in range(n):
        day = date(2025, 1, 1) + timedelta(days=i * 365 // n)
        unit = UNITS[rng.randrange(4)]
        scores = {c: choices[rng.randrange(8)] for c in CODES}
        gender = ("L", "P", None)[rng.randrange(3)]
        fold.add(Counted(("mojosari", unit, day), scores, {"gender": gender} if gender else {}))
        at = datetime(day.year, day.month, day.day, 3, tzinfo=UTC)
        rows.append((uuid.uuid4(), "mojosari", unit, at, day, scores, gender))
    return rows, fold


async def fill_postgres(settings: Settings, rows: list[tuple[Any, ...]]) -> None:
    """COPY the responses into the survey schema."""
    import json

    conn = await asyncpg.connect(PG_URL)
    try:
        await conn.copy_records_to_table(
            "responses", schema_name=settings.schema_name,
            columns=["id", "tenant", "unit", "submitted_at", "local_date", "scores", "gender"],
            records=[(*r[:5], json.dumps(r[5]), r[6]) for r in rows],
        )  # fmt: skip
        await conn.execute(f'ANALYZE "{settings.schema_name}".responses')
    finally:
        await conn.close()


def fill_sqlite(path: Path, rows: list[tuple[Any, ...]]) -> None:
    """Insert the responses into the SQLite file."""
    import json

    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO responses (id, tenant, unit, submitted_at, local_date, scores, gender,"
            " channel, phone_consent) VALUES (?, ?, ?, ?, ?, ?, ?, 'qr', 0)",
            [(r[0].hex, r[1], r[2], r[3].isoformat(), r[4].isoformat(), json.dumps(r[5]), r[6])
             for r in rows],
        )  # fmt: skip
        conn.execute("ANALYZE")


def baseline_sql(dialect: str) -> str:
    """Per-unsur sums and counts and the response count, straight from the JSON scores."""
    if dialect == "postgresql":
        parts = [f"sum((scores->>'{c}')::int), count(scores->>'{c}')" for c in CODES]
    else:
        parts = [f"sum(json_extract(scores, '$.{c}')), count(json_extract(scores, '$.{c}'))"
                 for c in CODES]  # fmt: skip
    return (
        f"SELECT count(*), {', '.join(parts)} FROM responses "  # noqa: S608 (constants)
        "WHERE tenant = 'mojosari' AND local_date BETWEEN '2025-01-01' AND '2025-12-31'"
    )


async def timed(fn: Any, runs: int) -> tuple[float, Any]:
    """Median seconds of runs (after one warm-up) and the last result."""
    result = await fn()
    times = []
    for _ in range(runs):
        started = perf_counter()
        result = await fn()
        times.append(perf_counter() - started)
    return statistics.median(times), result


async def measure(kind: str, settings: Settings, fold: Fold) -> list[Result]:
    """Times the baseline SQL and the service's report on the filled database."""
    db = Database(settings)
    tenant = load_tenants(settings.tenants_dir)["mojosari"]
    sql = baseline_sql(db.dialect)
    try:
        async with db.session() as session:
            await aggregates.write_fold(session, fold)

        async def raw() -> Any:
            async with db.session() as session:
                return (await session.execute(text(sql))).one()

        async def report() -> Any:
            async with db.session() as session:
                return await reporting.ikm_report(
                    session, tenant=tenant, unit_code=None, start=None, end=None,
                    scheme_id="permenpan-14-2017", population=None, period="2025",
                )  # fmt: skip

        raw_s, row = await timed(raw, 3)
        report_s, body = await timed(report, RUNS)
    finally:
        await db.dispose()
    totals = [(int(row[1 + 2 * i] or 0), int(row[2 + 2 * i])) for i in range(9)]
    mine = [(int(u["score_sum"]), int(u["answered"])) for u in body["unsur"]]
    if mine != totals or body["responses"] != row[0]:
        raise RuntimeError(f"report and SQL disagree: {mine} vs {totals}")
    name = "PostgreSQL" if kind == "postgresql" else "SQLite"
    return [
        Result(f"{SQL_PATH} ({name})", 1, raw_s, baseline=f"{SQL_PATH} ({name})",
               detail=f"{raw_s * 1000:.1f} ms per report over {row[0]:,} responses"),
        Result(f"service report from the aggregates ({name})", 1, report_s,
               baseline=f"{SQL_PATH} ({name})",
               detail=f"{report_s * 1000:.2f} ms per report (median of {RUNS})"),
    ]  # fmt: skip


async def run() -> list[Result]:
    """Fills one database (PostgreSQL when it answers, else SQLite) and measures both paths."""
    rows, fold = generate(N)
    kind = "postgresql" if pg_reachable() else "sqlite"
    prefix = f"bench{uuid.uuid4().hex[:8]}_"
    with tempfile.TemporaryDirectory(prefix="menjamu-bench-") as tmp:
        settings = Settings.model_validate(
            {"data_dir": Path(tmp), "redis_url": REDIS_URL, "db_schema_prefix": prefix,
             "database_url": PG_URL if kind == "postgresql" else None}
        )  # fmt: skip
        await asyncio.to_thread(upgrade, settings, MIGRATIONS)
        try:
            if kind == "postgresql":
                await fill_postgres(settings, rows)
            else:
                await asyncio.to_thread(fill_sqlite, Path(tmp) / "survey.sqlite3", rows)
            del rows
            return await measure(kind, settings, fold)
        finally:
            if kind == "postgresql":
                await _pg_execute(f'DROP SCHEMA IF EXISTS "{settings.schema_name}" CASCADE')
