"""Stream reactions of the registration service."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.registration import repository
from services.registration.settings import Settings
from shared.consumer import Reaction
from shared.contracts import CertificateIssuedV1
from shared.parts import ServiceParts


async def record_on_certificate_issued(session: AsyncSession, event: CertificateIssuedV1) -> None:
    """Notes on the registration that its certificate exists (for the per-desa report)."""
    await repository.mark_certificate_issued(
        session, event.tenant, event.registration_id, event.occurred_at
    )


def reactions(parts: ServiceParts[Settings]) -> list[Reaction[Any]]:
    """The service's reactions: one, noting issued certificates (it needs none of the parts)."""
    return [
        Reaction(
            group="registration.certificates",
            event=CertificateIssuedV1,
            handle=record_on_certificate_issued,
            batch=True,
        ),
    ]
