"""Per-process RSS and CPU time from /proc, and schema clean-up, for the process benchmarks."""

from __future__ import annotations

import os
import subprocess
from typing import Any

import asyncpg

TICKS = os.sysconf("SC_CLK_TCK")


def rss_and_cpu(pid: int) -> tuple[float, float]:
    """(resident MiB, user+system CPU seconds) of a live process, from /proc."""
    with open(f"/proc/{pid}/status") as status:
        rss_kib = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return rss_kib / 1024, (int(fields[11]) + int(fields[12])) / TICKS


class ProcessSampler:
    """Samples processes' RSS (the first and the peak) and CPU time (the first and the last).

    The first sample is taken once the process is up, so last minus first CPU is the work's.
    """

    def __init__(self, procs: dict[str, subprocess.Popen[bytes] | None]) -> None:
        self.procs = {name: p for name, p in procs.items() if p is not None}
        self.stats: dict[str, dict[str, float]] = {}

    def sample(self) -> None:
        """Takes one sample of every process still running."""
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                continue
            try:
                rss, cpu = rss_and_cpu(proc.pid)
            except (OSError, StopIteration):
                continue
            entry = self.stats.setdefault(
                name, {"first_rss_mib": rss, "peak_rss_mib": rss, "first_cpu_s": cpu}
            )
            entry["peak_rss_mib"] = max(entry["peak_rss_mib"], rss)
            entry["cpu_s"] = cpu

    def summary(self) -> dict[str, Any]:
        """The samples so far, by process name."""
        return {name: dict(stats) for name, stats in self.stats.items()}


async def drop_schemas(pg_url: str, prefix: str) -> None:
    """Drops every schema whose name starts with the prefix."""
    conn = await asyncpg.connect(pg_url)
    try:
        await conn.execute("SET lock_timeout = '15s'")
        rows = await conn.fetch(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE $1", prefix + "%"
        )
        for row in rows:
            await conn.execute(f'DROP SCHEMA "{row["nspname"]}" CASCADE')
    finally:
        await conn.close()
