"""The public write path over HTTP: registration and survey POST against a bare FastAPI insert.

Each app runs as its own uvicorn process (the real services through `menjamu serve`, the
baseline through `benchmarks._bare_app`), the load generator as another process
(`benchmarks._loadgen`), on SQLite and on PostgreSQL. Two loads each:
- fixed concurrency (20 connections, `MENJAMU_BENCH_WRITE_REQUESTS` requests): throughput;
- fixed rate (100 req/s for `MENJAMU_BENCH_WRITE_DURATION_S` s, open loop): p50/p99.
CPU milliseconds per request are read from /proc for the service process alone. For the survey
the run also measures how long after the last POST the IKM report counts every response.
`MENJAMU_BENCH_ROUNDS` repeats the whole set and keeps the median round of each row.
`MENJAMU_BENCH_WRITE_PATHS` (`registration,survey`) picks the paths and
`MENJAMU_BENCH_WRITE_DATABASES` (`sqlite,postgresql`) the databases. `MENJAMU_BENCH_WRITE_BEFORE`,
the folder of another checkout (say `git archive main | tar -x -C /tmp/main`), runs that code's
service too, right before this one's in every round: before and after interleaved, each against
the same round's bare app.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from benchmarks._common import Result, env_float, env_int
from benchmarks._infra import PG_URL, REDIS_URL, _pg_execute, flush_redis, pg_reachable

ROOT = Path(__file__).resolve().parents[1]
ADMIN = "bench-admin-token"
CONCURRENCY = 20
RATE = 100.0
UNIT = "kantor-kecamatan"
REGISTRATION_BODY = (
    '{"name":"Peserta Uji {i}","school":"SMAN 1 Mojosari","phone":"+62812{i8}",'
    '"level":"SMA","desa":"Mojosari","consent":true}'
)
SURVEY_BODY = '{"scores":{"U1":4,"U2":3,"U3":4,"U4":3,"U5":4,"U6":3,"U7":4,"U8":3,"U9":4}}'
# The survey collapses a device's resubmissions (address + User-Agent): one citizen per request.
SURVEY_HEADERS = {"User-Agent": "Mozilla/5.0 (Linux; Android 13) bench-{i}"}
NOTE = (
    "Figures: the load generator is a separate process on the same 2 cores; CPU ms/request is "
    "the service process's user+system time divided by the requests it answered."
)


@dataclass
class Load:
    """One load run's figures."""

    ok: int
    seconds: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float
    statuses: dict[str, int]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _base_env(data_dir: Path, database_url: str | None, prefix: str) -> dict[str, str]:
    keep = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MENJAMU_", "REGISTRATION_", "SURVEY_", "CERTIFICATES_"))
        and k not in ("REDIS_URL", "DATABASE_URL")
    }
    env = {
        **keep,
        "REDIS_URL": REDIS_URL,
        "MENJAMU_DATA_DIR": str(data_dir),
        "MENJAMU_ADMIN_TOKEN": ADMIN,
        "MENJAMU_DB_SCHEMA_PREFIX": prefix,
        "MENJAMU_LOG_FORMAT": "json",
        "PYTHONUNBUFFERED": "1",
        # One load generator is one client address: the public POSTs' per-address limit would
        # answer 429 after 60 requests. The per-phone limit stays on (every phone is new).
        "MENJAMU_RATE_LIMIT_PER_ADDRESS": "0",
    }
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


@contextmanager
def _process(
    cmd: list[str], env: dict[str, str], port: int, log: Path, cwd: Path = ROOT
) -> Iterator[int]:
    with log.open("ab") as out:
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{cmd} exited: {log.read_text()[-2000:]}")
            try:
                httpx.get(f"http://127.0.0.1:{port}/docs", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{cmd} did not start: {log}") from None
                time.sleep(0.2)
        yield proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


async def _load(pid: int, spec: dict[str, Any]) -> Load:
    before = _cpu_seconds(pid)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks._loadgen",
        json.dumps(spec),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    stdout, _ = await proc.communicate()
    figures = json.loads(stdout)
    cpu = _cpu_seconds(pid) - before
    return Load(
        ok=figures["ok"],
        seconds=figures["seconds"],
        p50_ms=figures["p50_ms"],
        p99_ms=figures["p99_ms"],
        cpu_ms=cpu * 1000 / max(1, figures["sent"]),
        statuses=figures["statuses"],
    )


def _spec(url: str, body: str, first: int, mode: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"url": url, "body": body, "first": first, "mode": mode}
    if mode == "concurrency":
        spec.update(concurrency=CONCURRENCY, requests=env_int("MENJAMU_BENCH_WRITE_REQUESTS", 1500))
    else:
        spec.update(rate=RATE, duration_s=env_float("MENJAMU_BENCH_WRITE_DURATION_S", 20.0))
    return spec


async def _create_event(base: str) -> str:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        response = await client.post(
            "/api/v1/events",
            headers={"Authorization": f"Bearer {ADMIN}"},
            json={"title": "Sosialisasi Adminduk", "date": "2030-01-15", "location": "Pendopo"},
        )
        response.raise_for_status()
        event_id: str = response.json()["id"]
        return event_id


async def _ikm_lag(base: str, expected: int) -> float:
    """Seconds from now until the IKM report counts `expected` responses (or 30 s)."""
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        while time.perf_counter() - started < 30:
            report = await client.get(
                f"/api/v1/ikm?unit={UNIT}", headers={"Authorization": f"Bearer {ADMIN}"}
            )
            if report.status_code == 200 and report.json().get("responses", 0) >= expected:
                return time.perf_counter() - started
            await asyncio.sleep(0.05)
    return float("inf")


async def _measure_paths(
    pid: int, base: str, paths: dict[str, str], lag: bool
) -> dict[str, Load | float]:
    out: dict[str, Load | float] = {}
    first = 0
    for name, body in (("registration", REGISTRATION_BODY), ("survey", SURVEY_BODY)):
        if name not in paths:
            continue
        url = base + paths[name]
        headers = SURVEY_HEADERS if name == "survey" else {}
        warm_up = {**_spec(url, body, 10_000_000, "concurrency"), "requests": 100}
        await _load(pid, {**warm_up, "headers": headers})
        for mode in ("concurrency", "rate"):
            first += 1_000_000
            out[f"{name} {mode}"] = await _load(
                pid, {**_spec(url, body, first, mode), "headers": headers}
            )
        if lag and name == "survey":
            total = 100 + sum(  # warm-up plus both loads
                v.ok for k, v in out.items() if k.startswith("survey") and isinstance(v, Load)
            )
            out["survey ikm lag"] = await _ikm_lag(base, total)
    return out


async def _one_app(
    kind: str, app: str, tmp: Path, root: Path = ROOT, names: list[str] | None = None
) -> dict[str, Load | float]:
    await flush_redis()
    prefix = f"bw{uuid.uuid4().hex[:8]}_"
    database_url = PG_URL if kind == "postgresql" else None
    data_dir = tmp / f"{kind}-{app}-{prefix}"
    # Another checkout's service runs from its folder: `python -m` imports from the cwd first.
    cwd = root
    data_dir.mkdir()
    env = _base_env(data_dir, database_url, prefix)
    port = _free_port()
    log = tmp / f"{app}.log"
    try:
        if app == "bare":
            url = (
                "postgresql+asyncpg://" + PG_URL.split("://", 1)[1]
                if database_url
                else f"sqlite+aiosqlite:///{data_dir / 'bare.sqlite3'}"
            )
            if database_url:
                await _pg_execute(f'CREATE SCHEMA "{prefix}bare"')
                env["BARE_SCHEMA"] = f"{prefix}bare"
            env.update(BARE_DATABASE_URL=url, BARE_PORT=str(port))
            cmd = [sys.executable, "-m", "benchmarks._bare_app"]
            paths = {
                "registration": "/api/v1/events/x/registrations",
                "survey": f"/api/v1/units/{UNIT}/responses",
            }
            paths = {k: v for k, v in paths.items() if names is None or k in names}
        else:
            env[f"{app.upper()}_PORT"] = str(port)
            await asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-m", "services.cli", "migrate", app],
                env=env,
                cwd=cwd,
                check=True,
                capture_output=True,
            )
            cmd = [sys.executable, "-m", "services.cli", "serve", app]
            paths = {}
        with _process(cmd, env, port, log, cwd) as pid:
            base = f"http://127.0.0.1:{port}"
            if app == "registration":
                paths["registration"] = f"/api/v1/events/{await _create_event(base)}/registrations"
            elif app == "survey":
                paths["survey"] = f"/api/v1/units/{UNIT}/responses"
            return await _measure_paths(pid, base, paths, lag=app == "survey")
    finally:
        if database_url:
            await _pg_execute(
                *(f'DROP SCHEMA IF EXISTS "{prefix}{s}" CASCADE' for s in (app, "bare"))
            )


def _median(loads: list[Load]) -> Load:
    return sorted(loads, key=lambda load: load.ok / load.seconds)[len(loads) // 2]


def _results(
    kind: str, rounds: list[dict[str, dict[str, Load | float]]], names: list[str]
) -> list[Result]:
    results = []
    for name in names:
        for mode in ("concurrency", "rate"):
            key = f"{name} {mode}"
            label = f"{kind}, {name} POST, " + (
                f"concurrency {CONCURRENCY}" if mode == "concurrency" else f"fixed {RATE:.0f}/s"
            )
            for app in ("bare", f"{name} before", name):
                loads = [r[app][key] for r in rounds if isinstance(r.get(app, {}).get(key), Load)]
                if not loads:
                    continue
                load = _median(loads)  # type: ignore[arg-type]
                who = {"bare": "bare FastAPI insert (baseline)", name: "Menjamu"}.get(
                    app, "Menjamu before (MENJAMU_BENCH_WRITE_BEFORE)"
                )
                detail = (
                    f"p50 {load.p50_ms:.1f} ms, p99 {load.p99_ms:.1f} ms, "
                    f"CPU {load.cpu_ms:.2f} ms/request, statuses {load.statuses}"
                )
                if name == "survey" and app != "bare" and mode == "rate":
                    lags = [float(r[app].get("survey ikm lag", 0.0)) for r in rounds]  # type: ignore[arg-type]
                    lag = statistics.median(lags)
                    detail += f", all in the IKM report {lag:.2f} s after the last POST"
                if len(rounds) > 1:  # every round's figures, not only the median's
                    detail += "; rounds: " + ", ".join(
                        f"{x.ok / x.seconds:.0f}/s {x.cpu_ms:.2f} ms p99 {x.p99_ms:.0f}"
                        for x in loads  # type: ignore[union-attr]
                    )
                results.append(
                    Result(
                        path=f"{label}: {who}",
                        events=load.ok,
                        seconds=load.seconds,
                        baseline=f"{label}: bare FastAPI insert (baseline)",
                        detail=detail,
                    )
                )
    return results


async def run() -> list[Result]:
    """Runs the rounds on SQLite and, when reachable, PostgreSQL."""
    wanted = os.environ.get("MENJAMU_BENCH_WRITE_DATABASES", "sqlite,postgresql").split(",")
    kinds = [k for k in ("sqlite", "postgresql") if k in wanted]
    if "postgresql" in kinds and not pg_reachable():
        kinds.remove("postgresql")
    names = os.environ.get("MENJAMU_BENCH_WRITE_PATHS", "registration,survey").split(",")
    names = [n for n in ("registration", "survey") if n in names]
    before_dir = os.environ.get("MENJAMU_BENCH_WRITE_BEFORE", "").strip()
    before = Path(before_dir).resolve() if before_dir else None  # noqa: ASYNC240 (once)
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="menjamu-write-") as tmp:
        for kind in kinds:
            rounds = []
            for _ in range(env_int("MENJAMU_BENCH_ROUNDS", 1)):
                # Interleaved: baseline and services alternate within each round.
                round_: dict[str, dict[str, Load | float]] = {
                    "bare": await _one_app(kind, "bare", Path(tmp), names=names)
                }
                for name in names:
                    if before:
                        round_[f"{name} before"] = await _one_app(kind, name, Path(tmp), before)
                    round_[name] = await _one_app(kind, name, Path(tmp))
                rounds.append(round_)
            results += _results(kind, rounds, names)
    return results
