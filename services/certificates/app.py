"""Builds the certificates service's app (`menjamu serve certificates`)."""

import logging
from pathlib import Path

from fastapi import FastAPI

from services.certificates import handlers
from services.certificates.api import router
from services.certificates.context import CertificatesContext
from services.certificates.finisher import Finisher
from services.certificates.pages import router as pages_router
from services.certificates.render import warn_if_slow_fonts
from services.certificates.renderpool import RenderPool
from services.certificates.settings import Settings
from services.certificates.storage import build_store
from services.certificates.template_api import router as template_router
from services.certificates.tenant_templates import folder_templates
from shared.logging import get_logger
from shared.parts import ServiceParts
from shared.runtime import Runtime
from shared.web import create_service_app

MIGRATIONS = Path(__file__).parent / "migrations"
log = get_logger(__name__)


def build_context(settings: Settings, runtime: Runtime) -> CertificatesContext:
    """The render pool, the PDF store and the finisher (woken after each numbering commit)."""
    pool = RenderPool(settings.render_workers, settings.render_timeout_s)
    store = build_store(settings)
    folder = folder_templates(settings.tenants_dir, sorted(runtime.tenants))
    finisher = Finisher(runtime.db, pool, store, settings, runtime.tenants, folder)
    runtime.db.after_commit.append(finisher.wake)
    return CertificatesContext(settings=settings, pool=pool, store=store, finisher=finisher)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Creates the app: download, verify and revoke routes plus the issuing reactions."""
    settings = settings or Settings()
    app: FastAPI

    async def on_startup(runtime: Runtime) -> None:
        warn_if_slow_fonts(log)
        # WeasyPrint logs each layout step at INFO: no use to operators.
        logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
        context = build_context(settings, runtime)
        app.state.certificates = context
        # The finisher owns the render workers: it starts them and stops them when cancelled.
        runtime.spawn(context.finisher.run(), "certificates-finisher")
        log.info("certificate.storage_ready", storage=context.store.name)

    parts = ServiceParts.build(settings)
    app = create_service_app(
        settings,
        title="Menjamu: sertifikat",
        routers=[template_router, router, pages_router],
        reactions=handlers.reactions(parts),
        on_startup=on_startup,
        # A template with its logo (base64) is an upload: MENJAMU_MAX_UPLOAD_BYTES, not 64 KB.
        upload_paths=("/api/v1/certificates/template", "/api/v1/certificates/preview"),
    )
    return app
