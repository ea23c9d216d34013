"""What the waiting list and idempotency cost the registration POST (issue 9's 10% budget).

One registration process per database (SQLite, PostgreSQL), three events, the same load on
each, interleaved in one run:
- plain: no capacity and no Idempotency-Key (the sign-up path without waiting list or key);
- capacity + key: a capacity far above the load (every sign-up compares the event row's
  maintained registered count) and a new Idempotency-Key per request (its answer stored with the
  registration in one INSERT ... ON CONFLICT), as the form sends;
- full + key: capacity 1 (every sign-up goes on the waiting list: position from the row's count).
Two loads each, as in write_path: fixed concurrency 20 (throughput, CPU ms/request) and a fixed
100 sign-ups/s (p50/p99). Check-in costs the POST only its code and token columns, present in
all three (no switch turns them off). `MENJAMU_BENCH_ROUNDS` repeats the set (order rotated).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import httpx

from benchmarks._common import Result, env_int
from benchmarks._infra import PG_URL, _pg_execute, flush_redis, pg_reachable
from benchmarks.write_path import (
    ADMIN,
    CONCURRENCY,
    RATE,
    REGISTRATION_BODY,
    ROOT,
    Load,
    _base_env,
    _free_port,
    _load,
    _median,
    _process,
    _spec,
)

VARIANTS = {"plain": None, "capacity + key": 100_000, "full + key": 1}
NOTE = (
    "Ratios against the plain sign-up of the same process and run; CPU ms/request is the "
    "service process's user+system time per request (steadier than throughput on a busy machine)."
)


async def _event(base: str, capacity: int | None) -> str:
    body = {"title": "Sosialisasi Adminduk", "date": "2030-01-15", "location": "Pendopo"}
    if capacity is not None:
        body["capacity"] = capacity  # type: ignore[assignment]
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        response = await client.post(
            "/api/v1/events", headers={"Authorization": f"Bearer {ADMIN}"}, json=body
        )
        response.raise_for_status()
        return str(response.json()["id"])


async def _round(pid: int, base: str, order: list[str], first: int) -> dict[str, Load]:
    out: dict[str, Load] = {}
    urls = {
        v: f"{base}/api/v1/events/{await _event(base, c)}/registrations"
        for v, c in VARIANTS.items()
    }
    for mode in ("concurrency", "rate"):
        for variant in order:
            first += 1_000_000
            spec = _spec(urls[variant], REGISTRATION_BODY, first, mode)
            if variant != "plain":
                spec["headers"] = {"Idempotency-Key": f"bench-{uuid.uuid4().hex[:8]}-{{i}}"}
            out[f"{variant} {mode}"] = await _load(pid, spec)
    return out


async def _measure(kind: str, tmp: Path) -> list[dict[str, Load]]:
    await flush_redis()
    prefix = f"bf{uuid.uuid4().hex[:8]}_"
    database_url = PG_URL if kind == "postgresql" else None
    data_dir = tmp / f"{kind}-{prefix}"
    data_dir.mkdir()
    env = _base_env(data_dir, database_url, prefix)
    port = _free_port()
    env["REGISTRATION_PORT"] = str(port)
    rounds = []
    try:
        await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "services.cli", "migrate", "registration"],
            env=env, cwd=ROOT, check=True, capture_output=True,
        )  # fmt: skip
        cmd = [sys.executable, "-m", "services.cli", "serve", "registration"]
        with _process(cmd, env, port, tmp / "registration.log") as pid:
            base = f"http://127.0.0.1:{port}"
            warm = await _event(base, None)
            await _load(pid, {**_spec(f"{base}/api/v1/events/{warm}/registrations",
                                      REGISTRATION_BODY, 10_000_000, "concurrency"),
                              "requests": 200})  # fmt: skip
            names = list(VARIANTS)
            for n in range(env_int("MENJAMU_BENCH_ROUNDS", 1)):
                order = names[n % 3 :] + names[: n % 3]
                rounds.append(await _round(pid, base, order, 20_000_000 * (n + 1)))
    finally:
        if database_url:
            await _pg_execute(f'DROP SCHEMA IF EXISTS "{prefix}registration" CASCADE')
    return rounds


def _results(kind: str, rounds: list[dict[str, Load]]) -> list[Result]:
    results = []
    for mode in ("concurrency", "rate"):
        label = f"{kind}, " + (
            f"concurrency {CONCURRENCY}" if mode == "concurrency" else f"fixed {RATE:.0f}/s"
        )
        for variant in VARIANTS:
            load = _median([r[f"{variant} {mode}"] for r in rounds])
            results.append(
                Result(
                    path=f"{label}: {variant}" + (" (baseline)" if variant == "plain" else ""),
                    events=load.ok,
                    seconds=load.seconds,
                    baseline=f"{label}: plain (baseline)",
                    detail=f"p50 {load.p50_ms:.1f} ms, p99 {load.p99_ms:.1f} ms, "
                    f"CPU {load.cpu_ms:.2f} ms/request, statuses {load.statuses}",
                )
            )
    return results


async def run() -> list[Result]:
    """Runs the rounds on SQLite and, when reachable, PostgreSQL."""
    kinds = ["sqlite"] + (["postgresql"] if pg_reachable() else [])
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="menjamu-features-") as tmp:
        for kind in kinds:
            results += _results(kind, await _measure(kind, Path(tmp)))
    return results
