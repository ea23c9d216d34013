"""Builds the certificates service's app (`menjamu serve certificates`)."""

import logging
from pathlib import Path

from fastapi import FastAPI

from services.certificates import handlers
from services.certificates.api import router
from services.certificates.pages import router as pages_router
from services.certificates.render import warn_if_slow_fonts
from services.certificates.settings import Settings
from shared.logging import get_logger
from shared.runtime import Runtime
from shared.web import create_service_app

MIGRATIONS = Path(__file__).parent / "migrations"
log = get_logger(__name__)


async def on_startup(runtime: Runtime) -> None:
    """Per process: one renderer (imports WeasyPrint once) and the slow-fonts warning."""
    warn_if_slow_fonts(log)
    # WeasyPrint logs each layout step at INFO: a few lines per certificate, no use to operators.
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    handlers.prepare_renderer(runtime)
    log.info("certificate.renderer_ready")


def create_app(settings: Settings | None = None) -> FastAPI:
    """Creates the app: download, verify and revoke routes plus the issuing reaction."""
    settings = settings or Settings()
    app: FastAPI
    # The reaction reads the runtime through `app` when a message arrives; the lifespan sets
    # app.state.runtime (and on_startup the renderer) before any consumer starts.
    reactions = handlers.reactions(settings, lambda: app.state.runtime)
    app = create_service_app(
        settings,
        title="Menjamu: sertifikat",
        routers=[router, pages_router],
        reactions=reactions,
        on_startup=on_startup,
    )
    return app
