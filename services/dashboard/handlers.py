"""Stream reactions of the dashboard: one consumer group per event type feeds the read model."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.dashboard import service
from services.dashboard.settings import Settings
from shared.consumer import Reaction
from shared.contracts import ALL_EVENTS, Event
from shared.db import mark_after_commit
from shared.parts import ServiceParts
from shared.tenants import Tenant

GROUP = "dashboard.read_model"


def record_on_event(
    tenants: Mapping[str, Tenant],
) -> Callable[[AsyncSession, Event], Awaitable[None]]:
    """Builds the handler that folds any event into the read model (tenant's local day)."""

    async def handle(session: AsyncSession, event: Event) -> None:
        tenant = tenants.get(event.tenant)
        if await service.record_event(
            session, event, tenant.timezone if tenant else "Asia/Jakarta"
        ):
            mark_after_commit(session)  # wakes the live page after the commit

    return handle


def reactions(parts: ServiceParts[Settings]) -> list[Reaction[Any]]:
    """Every event type the system publishes, batched (each effect is a few small rows)."""
    handle = record_on_event(parts.tenants)
    return [Reaction(group=GROUP, event=event, handle=handle, batch=True) for event in ALL_EVENTS]
