"""What a service's reactions read, built once in its app.py before the process starts.

Every service's `handlers.py` exports `reactions(parts) -> list[Reaction]`, and every `app.py`
calls it the same way. The parts exist before the Runtime (which needs the reactions to build
its consumers), so the event catalogue can list a service's reactions without starting it.
A service that needs more (consultation: tenant configs and a clock) subclasses this.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Self, TypeVar

from shared.settings import ServiceSettings
from shared.tenants import Tenant, load_tenants

S = TypeVar("S", bound=ServiceSettings)


@dataclass
class ServiceParts(Generic[S]):
    """The service's settings and its tenant files, read once."""

    settings: S
    tenants: dict[str, Tenant]

    @classmethod
    def build(cls, settings: S) -> Self:
        """Reads the tenant files once."""
        return cls(settings, load_tenants(settings.tenants_dir))
