"""Stream reactions of the certificates service: number on registration or check-in, revoke
on cancellation. Each reaction is step one only (short); the finisher renders afterwards."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.certificates import policy
from services.certificates.models import Certificate
from services.certificates.service import SqlCertificates
from services.certificates.settings import Settings
from shared.consumer import Reaction
from shared.contracts import (
    CertificateRevokedV1,
    ParticipantCancelledV1,
    ParticipantCheckedInV1,
    ParticipantRegisteredV1,
)
from shared.db import mark_after_commit
from shared.parts import ServiceParts
from shared.tenants import Tenant

ISSUE_GROUP = "certificates.issue"
CHECK_IN_GROUP = "certificates.check_in"
CANCEL_GROUP = "certificates.cancel"


# Registrations numbered in one transaction at most: a burst is numbered in batches (one
# counter bump, one INSERT), small enough that the first PDFs start rendering at once.
ISSUE_BATCH = 20


def _numbered(session: AsyncSession, certificate: Certificate | None) -> None:
    # The after-commit hooks wake the finisher (see app.py): it renders right after commit.
    if certificate is not None:
        mark_after_commit(session)


def _issue_reaction(settings: Settings, tenants: dict[str, Tenant]) -> Reaction[Any]:
    """Numbering on registration: a burst read together is numbered in one transaction."""

    async def issue_certificate_on_participant_registered(
        session: AsyncSession, event: ParticipantRegisteredV1
    ) -> None:
        """Numbers the participant's e-certificate once per registration (unless on check-in)."""
        certificate = await policy.on_registered(
            SqlCertificates(session),
            event,
            tenant=tenants.get(event.tenant),
            number_code=settings.number_code,
        )
        _numbered(session, certificate)

    async def issue_certificates_on_participants_registered(
        session: AsyncSession, events: list[ParticipantRegisteredV1]
    ) -> None:
        """The same for a batch read together: numbered in one transaction."""
        certificates = await policy.on_registered_many(
            SqlCertificates(session), events, tenants=tenants, number_code=settings.number_code
        )
        _numbered(session, certificates[0] if certificates else None)

    return Reaction(
        ISSUE_GROUP,
        ParticipantRegisteredV1,
        issue_certificate_on_participant_registered,
        batch=True,
        timeout_s=settings.handler_timeout_s,
        handle_many=issue_certificates_on_participants_registered,
        read_batch=ISSUE_BATCH,
    )


def reactions(parts: ServiceParts[Settings]) -> list[Reaction[Any]]:
    """The service's reactions: numbering on registration or check-in, revoking on cancel."""
    settings, tenants = parts.settings, parts.tenants

    async def issue_certificate_on_participant_checked_in(
        session: AsyncSession, event: ParticipantCheckedInV1
    ) -> None:
        """Numbers the certificate of an event that issues on attendance."""
        certificate = await policy.on_checked_in(
            SqlCertificates(session),
            event,
            tenant=tenants.get(event.tenant),
            number_code=settings.number_code,
        )
        _numbered(session, certificate)

    async def revoke_certificate_on_participant_cancelled(
        session: AsyncSession, event: ParticipantCancelledV1
    ) -> CertificateRevokedV1 | None:
        """A cancelled registration gets no certificate; one issued is revoked."""
        return await policy.on_cancelled(SqlCertificates(session), event)

    timeout = settings.handler_timeout_s
    return [
        _issue_reaction(settings, tenants),
        Reaction(
            CHECK_IN_GROUP,
            ParticipantCheckedInV1,
            issue_certificate_on_participant_checked_in,
            timeout_s=timeout,
            # One kecamatan's check-ins in turn: numbers follow the order of attendance (they
            # would queue on the kecamatan's counter row anyway).
            order_key=lambda event: event.tenant,
        ),
        Reaction(
            CANCEL_GROUP,
            ParticipantCancelledV1,
            revoke_certificate_on_participant_cancelled,
            timeout_s=timeout,  # ordered by registration (the default key)
        ),
    ]
