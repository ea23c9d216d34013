"""Stream reactions of the consultation service (thin: the rules live in service.py)."""

from __future__ import annotations

from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.consultation import service
from services.consultation.settings import Settings
from shared.consumer import Reaction
from shared.contracts import ParticipantRegisteredV1
from shared.tenants import Tenant, load_tenants


async def invite_on_participant_registered(
    session: AsyncSession,
    event: ParticipantRegisteredV1,
    *,
    tenants: dict[str, Tenant],
    public_url: str,
) -> None:
    """Queues a consenting participant's WhatsApp group invitation (sent by the dispatcher)."""
    await service.invite_participant(
        session, event, tenant=tenants.get(event.tenant), public_url=public_url
    )


def reactions(settings: Settings) -> list[Reaction[Any]]:
    """The service's reactions, bound to its tenants and public URL."""
    bound = partial(
        invite_on_participant_registered,
        tenants=load_tenants(settings.tenants_dir),
        public_url=settings.effective_public_url,
    )
    return [Reaction(group="consultation.invite", event=ParticipantRegisteredV1, handle=bound)]
