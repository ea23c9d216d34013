"""Certificates rendered per second by one process, reusing one renderer, against a naive
renderer that builds a new FontConfiguration and re-parses the CSS for every document.

Also reports the process's memory growth over the run (resident set size), which stays flat
when the FontConfiguration is reused. N = MENJAMU_BENCH_CERTIFICATES (40).
"""

from __future__ import annotations

import asyncio
from datetime import date
from time import perf_counter

from benchmarks._common import Result, env_int
from services.certificates.render import (
    CertificateContent,
    CertificateRenderer,
    harfbuzz_subset_available,
)

N = env_int("MENJAMU_BENCH_CERTIFICATES", 40)
REUSED = "reused renderer (one FontConfiguration, CSS parsed once)"
NAIVE = "naive: new FontConfiguration + CSS per certificate"


def _content(i: int) -> CertificateContent:
    return CertificateContent(
        number=f"{i:04d}/SERT-MENJAMU/MOJOSARI/2026",
        participant_name=f"Peserta Nomor {i}",
        school="SMAN 1 Mojosari",
        level="SMA",
        event_title="Sosialisasi Adminduk untuk Gen-Z",
        event_date=date(2026, 12, 5),
        event_location="Pendopo Kecamatan Mojosari",
        tenant_name="Kecamatan Mojosari",
        kabupaten="Kabupaten Mojokerto",
        programme="SI GEN-Z MENJAMU",
        signer_name="Yulius Bakhtiar, S.P., M.M",
        signer_title="Plt. Camat Mojosari",
        verify_url=f"https://example.invalid/verify/{i}",
        issued_on=date(2026, 12, 5),
    )


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * 4096 / 2**20


def _measure(make_renderer: object, reuse: bool) -> tuple[float, float]:
    renderer = make_renderer()  # type: ignore[operator]
    renderer.render(_content(0))  # warm-up: fonts and template loaded once
    before = _rss_mib()
    started = perf_counter()
    for i in range(1, N + 1):
        if not reuse:
            renderer = make_renderer()  # type: ignore[operator]
        renderer.render(_content(i))
    return perf_counter() - started, _rss_mib() - before


async def run() -> list[Result]:
    """Renders N certificates each way; returns the two rows."""
    fonts = (
        "libharfbuzz-subset0 present"
        if harfbuzz_subset_available()
        else ("libharfbuzz-subset0 MISSING (fontTools subsetting, ~10x slower)")
    )
    reused_s, reused_mib = await asyncio.to_thread(_measure, CertificateRenderer, True)
    naive_s, naive_mib = await asyncio.to_thread(_measure, CertificateRenderer, False)
    return [
        Result(
            NAIVE,
            N,
            naive_s,
            baseline=NAIVE,
            detail=f"{naive_s / N * 1000:.0f} ms each; RSS +{naive_mib:.1f} MiB; {fonts}",
        ),
        Result(
            REUSED,
            N,
            reused_s,
            baseline=NAIVE,
            detail=f"{reused_s / N * 1000:.0f} ms each; RSS +{reused_mib:.1f} MiB",
        ),
    ]
