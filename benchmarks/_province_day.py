"""A province day on one machine: 666 tenants, sign-ups and survey answers, then the certificate
and invitation backlog drained by 1, 2 and 4 consumer replicas on PostgreSQL.

`make bench-scale` (`python -m benchmarks._province_day [--signups N] [--replicas 1,2,4]`).
Real processes throughout: registration and survey take the sign-ups and answers over HTTP
(their relays publish them), then for each replica count the certificates and consultation
services start that many processes each on fresh schemas and fresh consumer groups, and a
sampler records every second each group's queue depth (lag + pending), and each process's
RSS and CPU time. It prints the figures, writes them as JSON and plots queue depth over time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import yaml
from redis.asyncio import Redis

from benchmarks._infra import PG_URL
from benchmarks._procs import ProcessSampler, drop_schemas
from shared.contracts import (
    CertificateIssuedV1,
    InvitationSentV1,
    ParticipantRegisteredV1,
    ResponseSubmittedV1,
)
from tests.processes import RedisServer, ServiceProcess, migrate, service_env
from tests.support import ADMIN_TOKEN

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
GROUPS = {"certificates": "certificates.issue", "consultation": "consultation.invite"}
QUIET = {"MENJAMU_LOG_LEVEL": "WARNING"}
BOOT_S = 600  # every process loads all tenant files at start; the host may be busy


def make_tenants(folder: Path, count: int) -> list[str]:
    """Writes `count` tenant files modelled on Mojosari's; returns their codes."""
    folder.mkdir(parents=True, exist_ok=True)
    model = yaml.load((ROOT / "deploy/tenants/mojosari.yaml").read_text(), Loader=yaml.CSafeLoader)
    codes = []
    for i in range(1, count + 1):
        code = f"kec{i:03d}"
        data = {**model, "tenant": {**model["tenant"], "code": code, "name": f"Kecamatan {i}"}}
        text = yaml.dump(data, Dumper=yaml.CSafeDumper, allow_unicode=True)
        (folder / f"{code}.yaml").write_text(text)
        codes.append(code)
    return codes


async def intake(reg: str, survey: str, codes: list[str], signups: int) -> dict[str, float]:
    """Creates one event per tenant, then posts the sign-ups and survey answers concurrently."""
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    limiter = asyncio.Semaphore(24)
    async with httpx.AsyncClient(timeout=60) as client:

        async def post(url: str, body: dict[str, Any], **kw: Any) -> None:
            async with limiter:
                response = await client.post(url, json=body, **kw)
                response.raise_for_status()

        events: list[str] = []
        for code in codes:
            body = {"title": "Sosialisasi", "date": "2026-12-05", "location": "Pendopo"}
            response = await client.post(
                f"{reg}/api/v1/events", json={**body, "tenant": code}, headers=headers
            )
            response.raise_for_status()
            events.append(response.json()["id"])
        started = time.perf_counter()
        jobs = [
            post(
                f"{reg}/api/v1/events/{events[i % len(events)]}/registrations",
                {"name": f"Peserta {i}", "school": "SMAN 1", "phone": f"0812{i:08d}",
                 "level": "SMA", "consent": True},
            )
            for i in range(signups)
        ]  # fmt: skip
        answers = signups // 4
        jobs += [
            post(
                f"{survey}/api/v1/units/kantor-kecamatan/responses",
                {"scores": {f"U{u}": 1 + (i + u) % 4 for u in range(1, 10)}},
                params={"tenant": codes[i % len(codes)]},
            )
            for i in range(answers)
        ]
        await asyncio.gather(*jobs)
        seconds = time.perf_counter() - started
    return {"signups": signups, "answers": answers, "intake_s": seconds}


async def depths(redis: Redis) -> dict[str, int]:
    """Each group's queue depth: entries not yet delivered (lag) plus delivered, not acked."""
    found = dict.fromkeys(GROUPS.values(), -1)
    for info in await redis.xinfo_groups(ParticipantRegisteredV1.STREAM):
        name = info["name"].decode()
        if name in found:
            lag = info.get("lag")  # None: Redis cannot tell yet; count it as not drained
            found[name] = (int(lag) if lag is not None else 1) + int(info["pending"])
    return found


async def drain(
    env: dict[str, str], tmp: Path, redis: Redis, replicas: int, total: int
) -> dict[str, Any]:
    """Starts `replicas` processes of each consumer; samples until both groups are empty."""
    stream = ParticipantRegisteredV1.STREAM
    for group in GROUPS.values():  # fresh groups at the end: the replicas boot with no work
        await redis.xgroup_destroy(stream, group)
        await redis.xgroup_create(stream, group, id="$")
    migrate(env, *GROUPS)
    procs = [ServiceProcess(name, env, tmp) for _ in range(replicas) for name in GROUPS]
    try:
        return await _drain_with(procs, redis, replicas, total)
    finally:
        for proc in procs:
            proc.stop()


async def _drain_with(
    procs: list[ServiceProcess], redis: Redis, replicas: int, total: int
) -> dict[str, Any]:
    stream = ParticipantRegisteredV1.STREAM
    boot = time.perf_counter()
    await asyncio.gather(*(asyncio.to_thread(p.start, BOOT_S) for p in procs))
    ready_s = time.perf_counter() - boot
    for group in GROUPS.values():  # the whole backlog appears to every replica at once
        await redis.xgroup_setid(stream, group, "0", entries_read=0)
    started = time.perf_counter()
    sampler = ProcessSampler({f"{p.name}-{i}": p.proc for i, p in enumerate(procs)})
    timeline: list[dict[str, Any]] = []
    while True:
        depth = await depths(redis)
        timeline.append({"t": time.perf_counter() - started, **depth})
        sampler.sample()
        if all(v == 0 for v in depth.values()):
            break
        await asyncio.sleep(1)
    drained = {g: next(s["t"] for s in timeline if s[g] == 0) for g in GROUPS.values()}
    return {
        "replicas": replicas,
        "ready_s": ready_s,
        "drain_s": drained,
        "per_s": {g: total / t for g, t in drained.items()},
        "timeline": timeline,
        "processes": sampler.summary(),
    }


def plot(runs: list[dict[str, Any]], path: Path, signups: int, tenants: int) -> None:
    """Queue depth over time, one line per replica count, one panel per consumer group."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, group in zip(axes, GROUPS.values(), strict=True):
        for run in runs:
            xs = [s["t"] for s in run["timeline"]]
            ax.plot(xs, [s[group] for s in run["timeline"]], label=f"{run['replicas']} replica(s)")
        ax.set_title(group)
        ax.set_xlabel("seconds since the backlog was released")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("queue depth (lag + pending)")
    axes[0].legend()
    fig.suptitle(f"Province day: {signups} sign-ups, {tenants} kecamatan, PostgreSQL, 2-core host")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


async def main(signups: int, replica_counts: list[int], tenants: int) -> dict[str, Any]:
    """Runs the whole day; returns the figures."""
    prefix = f"day{uuid.uuid4().hex[:6]}_"
    with tempfile.TemporaryDirectory(prefix="menjamu-day-") as folder:
        tmp = Path(folder)
        codes = make_tenants(tmp / "tenants", tenants)
        server = RedisServer(tmp / "redis")
        server.start()
        redis = Redis.from_url(server.url)
        base = service_env(
            redis_url=server.url, data_dir=tmp, database_url=PG_URL, schema_prefix=prefix,
            MENJAMU_TENANTS_DIR=str(tmp / "tenants"), **QUIET,
        )  # fmt: skip
        front: list[ServiceProcess] = []
        try:
            migrate(base, "registration", "survey")
            boot = time.perf_counter()
            front = [ServiceProcess(n, base, tmp) for n in ("registration", "survey")]
            for proc in front:  # in the list first: a start that fails is still stopped
                proc.start(BOOT_S)
            boot_s = time.perf_counter() - boot
            sampler = ProcessSampler({p.name: p.proc for p in front})
            sampler.sample()
            figures: dict[str, Any] = await intake(front[0].url, front[1].url, codes, signups)
            figures["front_boot_s"] = boot_s
            figures["intake_processes"] = await _wait_published(redis, signups, sampler)
            runs = []
            for n in replica_counts:
                env = {**base, "MENJAMU_DB_SCHEMA_PREFIX": f"{prefix}r{n}_"}
                print(f"draining with {n} replica(s) ...", file=sys.stderr, flush=True)
                runs.append(await drain(env, tmp, redis, n, signups))
            figures["redis"] = await _stream_memory(redis)
        finally:
            for proc in front:
                proc.stop()
            await redis.aclose()
            server.stop()
            await drop_schemas(PG_URL, prefix)
    figures.update(tenants=tenants, runs=runs)
    return figures


async def _wait_published(redis: Redis, signups: int, sampler: ProcessSampler) -> dict[str, Any]:
    while await redis.xlen(ParticipantRegisteredV1.STREAM) < signups:
        sampler.sample()
        await asyncio.sleep(0.5)
    sampler.sample()
    return sampler.summary()


async def _stream_memory(redis: Redis) -> dict[str, Any]:
    """Bytes per stream entry as Redis stores them (MEMORY USAGE of the whole stream)."""
    out: dict[str, Any] = {}
    for stream in (
        ParticipantRegisteredV1.STREAM,
        ResponseSubmittedV1.STREAM,
        CertificateIssuedV1.STREAM,
        InvitationSentV1.STREAM,
    ):
        length = await redis.xlen(stream)
        usage = await redis.memory_usage(stream, samples=0) or 0
        out[stream] = {"entries": length, "bytes": usage, "per_entry": usage / max(length, 1)}
    return out


def report(figures: dict[str, Any]) -> str:
    """The figures as markdown tables."""
    lines = [
        f"intake: {figures['signups']} sign-ups + {figures['answers']} survey answers over "
        f"{figures['tenants']} tenants in {figures['intake_s']:.1f} s "
        f"({(figures['signups'] + figures['answers']) / figures['intake_s']:.0f} requests/s)",
        "",
        "| replicas | certificates/s | ratio vs 1 | invitations/s | ratio vs 1 | drain (s) |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    first = figures["runs"][0]["per_s"]
    for run in figures["runs"]:
        cert, inv = run["per_s"]["certificates.issue"], run["per_s"]["consultation.invite"]
        lines.append(
            f"| {run['replicas']} | {cert:.1f} | {cert / first['certificates.issue']:.2f} | "
            f"{inv:.1f} | {inv / first['consultation.invite']:.2f} | "
            f"{max(run['drain_s'].values()):.0f} |"
        )
    lines += [
        "",
        "| run | process | RSS at start MiB | peak RSS MiB | CPU s of the work |",
        "|---|---|---:|---:|---:|",
    ]
    for label, run in [
        ("intake", {"processes": figures["intake_processes"]}),
        *((f"{r['replicas']} replica(s)", r) for r in figures["runs"]),
    ]:
        for name, st in run["processes"].items():
            work = st["cpu_s"] - st["first_cpu_s"]
            lines.append(
                f"| {label} | {name} | {st['first_rss_mib']:.0f} | {st['peak_rss_mib']:.0f} | "
                f"{work:.1f} |"
            )
    for stream, mem in figures["redis"].items():
        lines.append(f"\n{stream}: {mem['entries']} entries, {mem['per_entry']:.0f} bytes each")
    return "\n".join(lines)


def cli(argv: list[str]) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--signups", type=int, default=int(os.environ.get("SIGNUPS", "100000")))
    parser.add_argument("--replicas", default="1,2,4")
    parser.add_argument("--tenants", type=int, default=666)
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.replicas.split(",")]
    figures = asyncio.run(main(args.signups, counts, args.tenants))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "province_day.json").write_text(json.dumps(figures, indent=1))
    plot(figures["runs"], RESULTS / "province_day.png", args.signups, args.tenants)
    print(report(figures))
    print(f"\nplot: {RESULTS / 'province_day.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(cli(sys.argv[1:]))
