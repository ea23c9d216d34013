"""Builds the consultation service's app: WhatsApp gateway, webhooks, mentors, inbox."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI

from services.consultation import handlers, inbox_api, mentors_api, service, sweeper, webhook_api
from services.consultation.api import dev_router, public_router, router
from services.consultation.cloudapi import CloudApiGateway
from services.consultation.devgateway import DevGateway
from services.consultation.dispatcher import Dispatcher
from services.consultation.gateway import WhatsAppGateway
from services.consultation.handlers import Parts
from services.consultation.queue_metrics import outbound_queue_metrics
from services.consultation.settings import Settings
from services.consultation.waha import WahaGateway
from shared.logging import get_logger
from shared.runtime import Runtime
from shared.web import create_service_app

MIGRATIONS = Path(__file__).parent / "migrations"
log = get_logger(__name__)


def build_gateway(settings: Settings, runtime: Runtime) -> WhatsAppGateway:
    """Creates the configured WhatsApp adapter (Settings already refused bad combinations)."""
    if settings.whatsapp_gateway == "cloud":
        return CloudApiGateway(
            base_url=settings.cloud_api_url,
            phone_number_id=settings.cloud_phone_number_id,
            access_token=settings.cloud_access_token.get_secret_value(),
            timeout_s=settings.send_timeout_s,
        )
    if settings.whatsapp_gateway == "waha":
        return WahaGateway(
            base_url=settings.waha_url,
            session=settings.waha_session,
            api_key=settings.waha_api_key.get_secret_value(),
            timeout_s=settings.send_timeout_s,
        )
    if settings.environment == "production":  # Settings refuses this; never serve it anyway
        raise RuntimeError("the development WhatsApp gateway is refused in production")
    return DevGateway(runtime.db)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Creates the app: routes, reactions, the outbound dispatcher and the SLA sweeper."""
    settings = settings or Settings()
    parts = Parts.build(settings)

    async def on_startup(runtime: Runtime) -> None:
        async with runtime.db.session() as session:
            seeded = await service.seed_groups(session, runtime.tenants)
        log.info("consultation.groups_seeded", count=seeded, gateway=settings.whatsapp_gateway)
        gateway = build_gateway(settings, runtime)
        dispatcher = Dispatcher(runtime.db, runtime.redis, settings, gateway)
        parts.dispatcher = dispatcher
        runtime.spawn(dispatcher.run(), "whatsapp-dispatcher")
        runtime.spawn(sweeper.run(runtime.db, parts), "consultation-sweeper")

    routers: list[APIRouter] = [
        router,
        public_router,
        webhook_api.router,
        mentors_api.router,
        inbox_api.router,
    ]
    if settings.whatsapp_gateway == "dev" and settings.environment != "production":
        routers.append(dev_router)
    app = create_service_app(
        settings,
        title="Menjamu: konsultasi",
        routers=routers,
        reactions=handlers.reactions(parts),
        on_startup=on_startup,
    )
    app.state.consultation = parts
    app.state.metrics_probes = [outbound_queue_metrics]
    return app
