"""What request metrics cost: the same FastAPI route with and without the metrics middleware.

In-process (httpx ASGITransport), so the figure is the framework's own cost per request, the
worst case for a relative overhead (no network, no database in the route).
"""

from __future__ import annotations

import time

import httpx
from fastapi import FastAPI

from benchmarks._common import Result, env_int
from shared.metrics import MetricsMiddleware

NOTE = "A real route adds a database transaction (milliseconds); the middleware's share shrinks."


def _app(with_metrics: bool) -> FastAPI:
    app = FastAPI()

    @app.get("/api/v1/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        return {"id": thing_id}

    if with_metrics:
        app.add_middleware(MetricsMiddleware, service="bench")
    return app


async def _measure(app: FastAPI, n: int) -> float:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for i in range(50):  # warm-up
            await client.get(f"/api/v1/things/{i}")
        started = time.perf_counter()
        for i in range(n):
            response = await client.get(f"/api/v1/things/{i}")
            assert response.status_code == 200
        return time.perf_counter() - started


async def run() -> list[Result]:
    """Requests per second without (baseline) and with the metrics middleware."""
    n = env_int("MENJAMU_BENCH_REQUESTS", 5000)
    base = "FastAPI route, no middleware (baseline)"
    plain = await _measure(_app(False), n)
    metered = await _measure(_app(True), n)
    return [
        Result(base, n, plain, baseline=base),
        Result(
            "same route + MetricsMiddleware (counter + histogram by route template)",
            n,
            metered,
            baseline=base,
            detail=f"{(metered - plain) / n * 1e6:.0f} µs per request",
        ),
    ]
