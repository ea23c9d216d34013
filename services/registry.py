"""The four services by name: where their app, settings and migrations live."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SERVICES = ("registration", "certificates", "consultation", "survey", "dashboard")


@dataclass(frozen=True)
class ServiceEntry:
    """How to build, configure and migrate one service."""

    name: str

    @property
    def app_module(self) -> str:
        """Dotted path of the module with create_app."""
        return f"services.{self.name}.app"

    def settings(self, **overrides: Any) -> Any:
        """Loads the service's settings from the environment (plus overrides)."""
        module = importlib.import_module(f"services.{self.name}.settings")
        return module.Settings(**overrides)

    @property
    def migrations(self) -> Path:
        """The service's alembic migrations folder."""
        return Path(__file__).parent / self.name / "migrations"


def entry(name: str) -> ServiceEntry:
    """Returns the entry of a service, or raises SystemExit with the known names."""
    if name not in SERVICES:
        raise SystemExit(f"unknown service {name!r}; choose from {', '.join(SERVICES)}")
    return ServiceEntry(name)
