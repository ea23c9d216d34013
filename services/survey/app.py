"""Builds the survey service's app (uvicorn services.survey.app:app)."""

from pathlib import Path

from fastapi import FastAPI

from services.survey import service
from services.survey.api import router
from services.survey.api_exports import router as exports_router
from services.survey.api_live import router as live_router
from services.survey.api_live import start_live
from services.survey.api_tickets import router as tickets_router
from services.survey.handlers import REACTIONS
from services.survey.pages import pages
from services.survey.settings import Settings
from shared.logging import get_logger
from shared.runtime import Runtime
from shared.web import create_service_app

MIGRATIONS = Path(__file__).parent / "migrations"
log = get_logger(__name__)


async def seed_units(runtime: Runtime) -> None:
    """Upserts the tenants' survey units from their tenant files (idempotent)."""
    async with runtime.db.session() as session:
        count = await service.seed_units(session, runtime.tenants)
    log.info("survey.units_seeded", units=count, tenants=sorted(runtime.tenants))


async def start_up(runtime: Runtime) -> None:
    """Seeds the units and starts the live view's reader."""
    await seed_units(runtime)
    start_live(runtime)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Creates the app: public form and API, operator IKM report, the aggregator reaction."""
    return create_service_app(
        settings or Settings(),
        title="Menjamu: survei kepuasan",
        routers=[router, exports_router, live_router, tickets_router, pages],
        reactions=REACTIONS,
        on_startup=start_up,
    )
