"""Builds the registration service's app (`menjamu serve registration`)."""

from pathlib import Path

from fastapi import FastAPI

from services.registration import handlers
from services.registration.api import router
from services.registration.api_registrations import router as registrations_router
from services.registration.pages import router as pages_router
from services.registration.settings import Settings
from shared.parts import ServiceParts
from shared.web import create_service_app

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Creates the app: HTTP routes and the reaction that notes issued certificates."""
    settings = settings or Settings()
    parts = ServiceParts.build(settings)
    return create_service_app(
        settings,
        title="Menjamu: pendaftaran",
        routers=[router, registrations_router, pages_router],
        reactions=handlers.reactions(parts),
    )
