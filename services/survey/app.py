"""Builds the survey service's app (`menjamu serve survey`)."""

import asyncio
from pathlib import Path
from typing import cast

from fastapi import FastAPI

from services.survey import handlers, service
from services.survey.api import router
from services.survey.api_exports import router as exports_router
from services.survey.api_live import router as live_router
from services.survey.api_live import start_live
from services.survey.api_tickets import router as tickets_router
from services.survey.context import SurveyContext
from services.survey.pages import pages
from services.survey.settings import Settings
from shared.logging import get_logger
from shared.parts import ServiceParts
from shared.runtime import Runtime
from shared.web import create_service_app

MIGRATIONS = Path(__file__).parent / "migrations"
log = get_logger(__name__)


async def seed_units(runtime: Runtime) -> None:
    """Upserts the tenants' survey units from their tenant files (idempotent)."""
    async with runtime.db.session() as session:
        count = await service.seed_units(session, runtime.tenants)
    log.info("survey.units_seeded", units=count, tenants=sorted(runtime.tenants))


async def prune_device_keys(runtime: Runtime, every_s: float = 3600.0) -> None:
    """Hourly: forgets same-device keys past two duplicate windows (they can match no more)."""
    settings = cast(Settings, runtime.settings)
    while True:
        try:
            async with runtime.db.session() as session:
                pruned = await service.prune_device_keys(session, settings.duplicate_window_s)
            log.info("survey.device_keys_pruned", rows=pruned)
        except Exception as exc:
            log.warning("survey.device_keys_prune_failed", error=type(exc).__name__)
        await asyncio.sleep(every_s)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Creates the app: public form and API, operator IKM report, the aggregator reaction."""
    settings = settings or Settings()
    parts = ServiceParts.build(settings)
    app: FastAPI

    async def start_up(runtime: Runtime) -> None:
        """Seeds the units, starts the live view's reader and the key pruning."""
        await seed_units(runtime)
        app.state.survey = SurveyContext(live=start_live(runtime))
        runtime.spawn(prune_device_keys(runtime), "survey-prune-keys")

    app = create_service_app(
        settings,
        title="Menjamu: survei kepuasan",
        routers=[router, exports_router, live_router, tickets_router, pages],
        reactions=handlers.reactions(parts),
        on_startup=start_up,
        upload_paths=(r"/api/v1/units/[^/]+/imports",),  # the CSV/XLSX import (5 MB)
    )
    return app
