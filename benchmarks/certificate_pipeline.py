"""Certificates per second through the real pipeline on PostgreSQL, by number of processes.

N registrations (MENJAMU_BENCH_PIPELINE_N, 300) are put on the registration stream as the
relay puts them; certificates service processes (`menjamu serve certificates`, each with
CERTIFICATES_RENDER_WORKERS render processes) consume them, number each in one short
transaction, render outside any transaction, store the PDF in the local folder and announce
`CertificateIssuedV1`. The clock stops when every certificate is stored and announced.
The baseline is a plain loop rendering the same certificates (same fields, the tenant file's
facts, a verification URL as long) with the project's renderer in this process, run just before
and just after each pipeline run; the pipeline is compared with their mean (the machine is
shared, so its speed drifts). The services keep their default poll and relay
intervals (1 s, 0.5 s): readers block on XREADGROUP and the relay and the finisher are woken
after each commit, so those intervals are safety nets that add no latency; at 100 ms the idle
polling of six subscribers, the relay and the finisher cost about as much CPU as the certificates
(issue 10 measurements). Peak memory (VmHWM) is read per process before stop.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
from redis.asyncio import Redis

from benchmarks._common import Result, env_int
from benchmarks._infra import PG_URL, REDIS_URL, flush_redis, pg_reachable, sample_event
from services.certificates.models import Certificate
from services.certificates.numbering import format_number
from services.certificates.render import CertificateContent
from services.certificates.service import certificate_content
from shared.relay import encode_for_stream
from shared.tenants import Tenant, load_tenants

N = env_int("MENJAMU_BENCH_PIPELINE_N", 300)
# Which runs, as <processes>x<render workers>, comma-separated (MENJAMU_BENCH_PIPELINE_CONFIGS).
CONFIGS = os.environ.get("MENJAMU_BENCH_PIPELINE_CONFIGS", "").strip() or "1x1,2x1,1x2"
ROOT = Path(__file__).resolve().parents[1]
NOTE = (
    "Targets (issue 10): one process with one render worker >= 0.9 of the baseline; two "
    "processes >= 1.7. Measured on this 2-core machine, shared with other work while it ran."
)


def _same_certificate(i: int, tenant: Tenant) -> CertificateContent:
    """What the pipeline prints for registration i: the same event fields, the tenant file's
    facts and a verification URL of the same length (the QR code has as many modules)."""
    event = sample_event(i)
    row = Certificate(
        id=uuid.uuid4(),
        tenant=event.tenant,
        number=format_number(i + 1, code="SERT-MENJAMU", tenant_code=event.tenant, year=2026),
        participant_name=event.name,
        school=event.school,
        level=event.level,
        activity_title=event.activity_title,
        activity_date=event.activity_date,
        activity_location=event.activity_location,
        issued_at=datetime.now(UTC),
    )
    return certificate_content(row, tenant, public_url="http://127.0.0.1:18600")


def _baseline() -> tuple[float, float]:
    from services.certificates.render import CertificateRenderer

    renderer = CertificateRenderer()
    tenant = load_tenants(ROOT / "deploy" / "tenants")["mojosari"]
    contents = [_same_certificate(i, tenant) for i in range(N + 1)]
    renderer.render(contents[0])
    started, cpu = time.perf_counter(), time.thread_time()
    for content in contents[1:]:
        renderer.render(content)
    return time.perf_counter() - started, time.thread_time() - cpu


def _env(tmp: Path, prefix: str, workers: int, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MENJAMU_", "CERTIFICATES_"))}
    env.update(
        REDIS_URL=REDIS_URL,
        DATABASE_URL=PG_URL,
        MENJAMU_DATA_DIR=str(tmp),
        MENJAMU_DB_SCHEMA_PREFIX=prefix,
        MENJAMU_ADMIN_TOKEN="bench",
        MENJAMU_LOG_FORMAT="json",
        MENJAMU_LOG_LEVEL="WARNING",
        CERTIFICATES_RENDER_WORKERS=str(workers),
        CERTIFICATES_PORT=str(port),
    )
    return env


def _peak_kib(pid: int) -> int:
    """Peak resident memory (VmHWM) of a process, KiB; 0 when gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu_s(pid: int) -> float:
    """CPU time (user + system) a process has used, seconds; 0 when gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pg_ports(pid: int) -> set[int]:
    """Local ports of a process's TCP connections to PostgreSQL (port 5432)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").glob("*"):
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports: set[int] = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[9] in inodes and int(fields[2].rsplit(":", 1)[1], 16) == 5432:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


async def _backends(service_pids: list[int]) -> list[int]:
    """The PostgreSQL backend processes serving the given service processes."""
    ports = set().union(*(_pg_ports(pid) for pid in service_pids))
    conn = await asyncpg.connect(PG_URL)
    try:
        rows = await conn.fetch("SELECT pid, client_port FROM pg_stat_activity")
    finally:
        await conn.close()
    return [row["pid"] for row in rows if row["client_port"] in ports]


def _redis_server_cpu() -> float:
    """CPU seconds of the local redis-server (the whole server: other users' work included)."""
    for stat in Path("/proc").glob("[0-9]*/comm"):
        try:
            if stat.read_text().strip() == "redis-server":
                return _cpu_s(int(stat.parent.name))
        except OSError:
            continue
    return 0.0


def _children(pid: int) -> list[int]:
    """Child processes of every thread of `pid` (render workers are started from threads)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return sorted(set(found))


async def _started(port: int, proc: subprocess.Popen[bytes], workers: int) -> None:
    """Waits for /ready and for the render workers (children of the service process)."""
    async with httpx.AsyncClient(timeout=2) as client:
        for _ in range(600):
            if proc.poll() is not None:
                raise RuntimeError("a certificates process exited at start-up")
            try:
                ready = (await client.get(f"http://127.0.0.1:{port}/ready")).status_code == 200
            except httpx.HTTPError:
                ready = False
            if ready and len(_children(proc.pid)) >= workers:
                await asyncio.sleep(2.0)  # the workers import WeasyPrint (~1 s)
                return
            await asyncio.sleep(0.2)
    raise RuntimeError("certificates did not start")


async def _count(conn: asyncpg.Connection, schema: str) -> int:
    done: int = await conn.fetchval(
        f'SELECT CASE WHEN EXISTS (SELECT 1 FROM "{schema}".outbox WHERE published_at IS NULL) '
        f'THEN 0 ELSE (SELECT count(*) FROM "{schema}".certificates WHERE pdf_key IS NOT NULL) END'
    )
    return done


async def _pipeline(
    processes: int, workers: int
) -> tuple[float, list[int], list[float], float, float]:
    """Runs N registrations through `processes` service processes.

    Returns the seconds, then peak KiB and CPU seconds of each process (service, then its
    children: the multiprocessing resource tracker and the render workers), then the CPU
    seconds of the PostgreSQL backends serving the services and of the whole redis-server."""
    await flush_redis()
    prefix = f"bench{uuid.uuid4().hex[:8]}_"
    schema = f"{prefix}certificates"
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="menjamu-bench-") as tmp:
        base = _env(Path(tmp), prefix, workers, 0)
        cli = [sys.executable, "-m", "services.cli"]
        subprocess.run([*cli, "migrate", "certificates"], env=base, cwd=ROOT, check=True)
        try:
            for i in range(processes):
                port = _free_port()  # another run of this benchmark may hold a fixed one
                env = _env(Path(tmp), prefix, workers, port)
                log = (Path(tmp) / f"certificates-{i}.log").open("wb")
                proc = subprocess.Popen([*cli, "serve", "certificates"], env=env, cwd=ROOT,
                                        stdout=log, stderr=log)  # fmt: skip
                procs.append(proc)
                await _started(port, proc, workers)
            services = [proc.pid for proc in procs]
            watched = [*await _backends(services)]
            watched += [p for proc in procs for p in [proc.pid, *_children(proc.pid)]]
            cpu_before = {p: _cpu_s(p) for p in watched}
            redis_before = _redis_server_cpu()
            seconds = await _publish_and_wait(schema, procs)
            redis_cpu = _redis_server_cpu() - redis_before
            pids = [p for proc in procs for p in [proc.pid, *_children(proc.pid)]]
            peaks = [_peak_kib(p) for p in pids]
            cpu = [_cpu_s(p) - cpu_before.get(p, 0.0) for p in pids]
            pg_cpu = sum(_cpu_s(p) - cpu_before.get(p, 0.0) for p in await _backends(services))
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(30)
            await _drop(schema)
    return seconds, peaks, cpu, pg_cpu, redis_cpu


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def _publish_and_wait(schema: str, procs: list[subprocess.Popen[bytes]]) -> float:
    redis = Redis.from_url(REDIS_URL)
    # One connection for the whole wait: a new one per look costs PostgreSQL a process start,
    # CPU taken from the services measured.
    conn = await asyncpg.connect(PG_URL)
    try:
        events = [sample_event(i) for i in range(N)]
        started = time.perf_counter()
        pipe = redis.pipeline(transaction=False)
        for event in events:
            fields = await encode_for_stream(
                event.type, event.correlation_id, event.model_dump_json()
            )
            pipe.xadd(event.STREAM, fields)
        await pipe.execute()
        while await _count(conn, schema) < N:
            if any(proc.poll() is not None for proc in procs):
                raise RuntimeError("a certificates process exited during the run")
            await asyncio.sleep(0.1)
        return time.perf_counter() - started
    finally:
        await conn.close()
        await redis.aclose()


async def _drop(schema: str) -> None:
    conn = await asyncpg.connect(PG_URL)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


def _load() -> str:
    one, five, _fifteen = os.getloadavg()
    return f"load average {one:.1f} (1 min) / {five:.1f} (5 min) on {os.cpu_count()} cores"


def _configs() -> list[tuple[int, int]]:
    pairs = [item.strip().lower().split("x") for item in CONFIGS.split(",") if item.strip()]
    return [(int(processes), int(workers)) for processes, workers in pairs]


async def _measured_baseline() -> tuple[float, float]:
    seconds, cpu = await asyncio.to_thread(_baseline)
    return seconds, cpu / N * 1000


async def run() -> list[Result]:
    """For each configuration (1 process x 1 worker, 2 x 1, 1 x 2 by default): the baseline
    loop just before and just after the pipeline, and the pipeline against their mean."""
    if not pg_reachable():
        raise SystemExit(f"PostgreSQL is not reachable at {PG_URL}")
    results = []
    for processes, workers in _configs():
        label = f"{processes} certificates process(es) x {workers} render worker(s)"
        before_s, before_cpu = await _measured_baseline()
        seconds, peaks, cpu, pg_cpu, redis_cpu = await _pipeline(processes, workers)
        after_s, after_cpu = await _measured_baseline()
        baseline = f"plain render loop, one process (baseline of {label})"
        results.append(
            Result(
                baseline,
                N,
                (before_s + after_s) / 2,
                baseline=baseline,
                detail=(
                    f"mean of {before_s:.1f} s before and {after_s:.1f} s after; CPU "
                    f"{before_cpu:.0f} / {after_cpu:.0f} ms per certificate; {_load()}"
                ),
            )
        )
        memory = ", ".join(f"{kib / 1024:.0f}" for kib in peaks)
        per_cert = ", ".join(f"{c / N * 1000:.0f}" for c in cpu)
        results.append(
            Result(
                f"pipeline: {label}",
                N,
                seconds,
                baseline=baseline,
                detail=(
                    f"per process (service, resource tracker, render workers; then the next "
                    f"service): peak RSS MiB {memory}; CPU ms per certificate {per_cert}; "
                    f"PostgreSQL backends {pg_cpu / N * 1000:.1f}, redis-server (all its "
                    f"users) {redis_cpu / N * 1000:.1f} ms per certificate; {_load()}"
                ),
            )
        )
    return results
