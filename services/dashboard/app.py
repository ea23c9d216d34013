"""Builds the dashboard service's app (menjamu serve dashboard)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from prometheus_client.core import CounterMetricFamily, Metric

from services.dashboard import handlers, health, service
from services.dashboard.api import router
from services.dashboard.live import Changes
from services.dashboard.pages import pages
from services.dashboard.readmodel import BUSINESS_METRICS
from services.dashboard.settings import Settings
from shared.parts import ServiceParts
from shared.runtime import Runtime
from shared.web import create_service_app

MIGRATIONS = Path(__file__).parent / "migrations"


class HealthCache:
    """The health strip, recomputed at most every `refresh_s` however many pages are open."""

    def __init__(self, runtime: Runtime, urls: dict[str, str], refresh_s: float) -> None:
        self.runtime, self.urls, self.refresh_s = runtime, urls, refresh_s
        self.value: list[dict[str, Any]] = []
        self.at = 0.0
        self.lock = asyncio.Lock()

    async def get(self) -> list[dict[str, Any]]:
        """The latest health rows (fresh within refresh_s)."""
        async with self.lock:
            if time.monotonic() - self.at >= self.refresh_s:
                try:
                    me = self.runtime.settings.service_name
                    own = (me, bool((await self.runtime.readiness())["ready"]))
                    self.value = await health.service_health(self.runtime.redis, self.urls, own)
                except Exception:  # Redis down: show every service as unknown, keep serving
                    self.value = [{"service": n, "ready": False} for n in self.urls]
                self.at = time.monotonic()
        return self.value


async def business_metrics(runtime: Runtime) -> list[Metric]:
    """Business counters by tenant (registrations, certificates, ...) from the read model."""
    async with runtime.db.session() as session:
        rows = await service.business_totals(session)
    found = {(t, m): n for t, m, n in rows}
    families: list[Metric] = []
    for metric in BUSINESS_METRICS:
        family = CounterMetricFamily(
            f"menjamu_{metric}", f"{metric} seen by the dashboard, by tenant.", labels=["tenant"]
        )
        for tenant in sorted(runtime.tenants):
            family.add_metric([tenant], float(found.get((tenant, metric), 0)))
        families.append(family)
    return families


def journal_retention(runtime: Runtime, settings: Settings) -> Callable[[datetime], Awaitable[int]]:
    """The retention rule of the journal: entries older than `journal_retention_days` go."""

    async def rule(now: datetime) -> int:
        return await service.prune_journal(
            runtime.db, now - timedelta(days=settings.journal_retention_days)
        )

    return rule


def create_app(settings: Settings | None = None) -> FastAPI:
    """Creates the app: read-model consumers, live page, journeys and operator tools."""
    settings = settings or Settings()
    parts = ServiceParts.build(settings)
    app: FastAPI

    async def on_startup(runtime: Runtime) -> None:
        app.state.changes = Changes()
        runtime.db.after_commit.append(app.state.changes.notify)
        app.state.health = HealthCache(runtime, settings.service_urls, settings.refresh_s)
        app.state.metrics_probes = [business_metrics]
        runtime.retention.rules["journal_entries"] = journal_retention(runtime, settings)

    app = create_service_app(
        settings,
        title="Menjamu: dasbor program",
        routers=[router, pages],
        reactions=handlers.reactions(parts),
        on_startup=on_startup,
    )
    return app
