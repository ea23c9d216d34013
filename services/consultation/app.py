"""Builds the consultation service's app (WhatsApp groups, invitations, outbound queue)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI

from services.consultation import handlers, service
from services.consultation.api import dev_router, public_router, router
from services.consultation.devgateway import DevGateway
from services.consultation.dispatcher import GATEWAY_KEY, Dispatcher
from services.consultation.gateway import WhatsAppGateway
from services.consultation.queue_metrics import outbound_queue_metrics
from services.consultation.settings import Settings
from shared.logging import get_logger
from shared.runtime import Runtime
from shared.web import create_service_app

MIGRATIONS = Path(__file__).parent / "migrations"
log = get_logger(__name__)


def build_gateway(settings: Settings, runtime: Runtime) -> WhatsAppGateway:
    """Creates the configured WhatsApp adapter (Settings already refused unknown names)."""
    if settings.whatsapp_gateway == "dev":
        if settings.environment == "production":
            log.warning("consultation.dev_gateway_in_production")
        return DevGateway(runtime.db)
    raise RuntimeError(
        f"no adapter for CONSULTATION_WHATSAPP_GATEWAY={settings.whatsapp_gateway!r}"
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    """Creates the app: routes, the invitation reaction and the outbound dispatcher."""
    settings = settings or Settings()

    async def on_startup(runtime: Runtime) -> None:
        async with runtime.db.session() as session:
            seeded = await service.seed_groups(session, runtime.tenants)
        log.info("consultation.groups_seeded", count=seeded)
        runtime.state[GATEWAY_KEY] = build_gateway(settings, runtime)
        dispatcher = Dispatcher(runtime.db, settings, runtime.state)
        runtime.state["dispatcher"] = dispatcher
        runtime.state["dispatcher_task"] = runtime.spawn(dispatcher.run(), "whatsapp-dispatcher")

    routers: list[APIRouter] = [router, public_router]
    if settings.whatsapp_gateway == "dev":
        routers.append(dev_router)
    app = create_service_app(
        settings,
        title="Menjamu: konsultasi",
        routers=routers,
        reactions=handlers.reactions(settings),
        on_startup=on_startup,
    )
    app.state.metrics_probes = [outbound_queue_metrics]
    return app
