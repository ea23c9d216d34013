"""Stream reactions of the registration service."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.registration import repository
from shared.consumer import Reaction
from shared.contracts import CertificateIssuedV1


async def record_on_certificate_issued(session: AsyncSession, event: CertificateIssuedV1) -> None:
    """Notes on the registration that its certificate exists (for the per-desa report)."""
    await repository.mark_certificate_issued(
        session, event.tenant, event.registration_id, event.occurred_at
    )


REACTIONS = [
    Reaction(
        group="registration.certificates",
        event=CertificateIssuedV1,
        handle=record_on_certificate_issued,
        batch=True,
    ),
]
