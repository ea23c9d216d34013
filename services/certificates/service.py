"""Certificate rules: one per registration, numbered per tenant and year, revocable."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.certificates import repository
from services.certificates.models import STATUS_REVOKED, STATUS_VALID, Certificate
from services.certificates.numbering import format_number
from services.certificates.render import CertificateContent
from shared.contracts import CertificateIssuedV1, ParticipantRegisteredV1, utcnow
from shared.dates import local_date
from shared.logging import get_logger
from shared.problems import DomainError, NotFound
from shared.tenants import Tenant

SOURCE = "certificates"
Render = Callable[[CertificateContent], Awaitable[bytes]]
log = get_logger(__name__)


class UnknownTenant(Exception):
    """An event names a kecamatan this deployment has no tenant file for."""


def download_url(public_url: str, certificate_id: uuid.UUID) -> str:
    """Where the participant downloads the PDF."""
    return f"{public_url}/api/v1/certificates/{certificate_id}/pdf"


def verify_url(public_url: str, certificate_id: uuid.UUID) -> str:
    """The public verification page (printed as a QR code on the certificate)."""
    return f"{public_url}/verify/{certificate_id}"


def certificate_content(
    event: ParticipantRegisteredV1, tenant: Tenant, *, number: str, verify: str, issued_on: date
) -> CertificateContent:
    """What is printed on a registration's certificate."""
    return CertificateContent(
        number=number,
        participant_name=event.name,
        school=event.school,
        level=event.level,
        event_title=event.activity_title,
        event_date=event.activity_date,
        event_location=event.activity_location,
        tenant_name=tenant.name,
        kabupaten=tenant.kabupaten,
        programme=tenant.programme,
        signer_name=tenant.camat,
        signer_title=tenant.camat_title,
        verify_url=verify,
        issued_on=issued_on,
    )


async def issue_certificate(
    session: AsyncSession,
    event: ParticipantRegisteredV1,
    *,
    tenant: Tenant | None,
    public_url: str,
    number_code: str,
    render: Render,
) -> CertificateIssuedV1 | None:
    """Issues a registration's certificate once; returns the event it causes, or None.

    A registration that already has a certificate (the natural key) gets nothing new: no
    second PDF, no second number, no second event.
    """
    ids = {"registration_id": str(event.registration_id), "tenant": event.tenant}
    if tenant is None:
        log.error("certificate.unknown_tenant", **ids)
        raise UnknownTenant(
            f"no tenant file for kecamatan {event.tenant!r}; "
            "add deploy/tenants/<code>.yaml or fix the producer"
        )
    if await repository.find_by_registration(session, event.registration_id) is not None:
        log.info("certificate.already_issued", **ids)
        return None
    issued_at = utcnow()
    issued_on = local_date(issued_at, tenant.timezone)
    sequence = await repository.next_sequence(session, tenant.code, issued_on.year)
    number = format_number(sequence, code=number_code, tenant_code=tenant.code, year=issued_on.year)
    certificate_id = uuid.uuid4()
    content = certificate_content(
        event,
        tenant,
        number=number,
        verify=verify_url(public_url, certificate_id),
        issued_on=issued_on,
    )
    pdf = await render(content)
    await repository.add(
        session,
        Certificate(
            id=certificate_id,
            tenant=tenant.code,
            registration_id=event.registration_id,
            number=number,
            participant_name=event.name,
            school=event.school,
            level=event.level,
            activity_title=event.activity_title,
            activity_date=event.activity_date,
            activity_location=event.activity_location,
            pdf=pdf,
            status=STATUS_VALID,
            issued_at=issued_at,
            correlation_id=event.correlation_id,
        ),
    )
    log.info(
        "certificate.issued",
        certificate_id=str(certificate_id),
        number=number,
        pdf_bytes=len(pdf),
        **ids,
    )
    return CertificateIssuedV1.caused_by(
        event,
        source=SOURCE,
        certificate_id=certificate_id,
        registration_id=event.registration_id,
        number=number,
        download_url=download_url(public_url, certificate_id),
        verify_url=content.verify_url,
    )


async def get_certificate(session: AsyncSession, certificate_id: uuid.UUID) -> Certificate:
    """Gets a certificate or raises NotFound (in Indonesian)."""
    certificate = await repository.get(session, certificate_id)
    if certificate is None:
        raise NotFound("Sertifikat tidak ditemukan. Periksa kembali tautan atau kode QR-nya.")
    return certificate


async def certificate_pdf(
    session: AsyncSession, certificate_id: uuid.UUID
) -> tuple[Certificate, bytes]:
    """Returns a valid certificate and its PDF; a revoked one is gone (410)."""
    certificate = await get_certificate(session, certificate_id)
    if certificate.status == STATUS_REVOKED:
        raise DomainError(
            "Sertifikat ini sudah dicabut sehingga tidak dapat diunduh lagi. "
            "Hubungi kantor kecamatan bila ada pertanyaan.",
            status=410,
            code="sertifikat_dicabut",
        )
    pdf = await repository.get_pdf(session, certificate_id)
    assert pdf is not None
    return certificate, pdf


async def revoke_certificate(
    session: AsyncSession, certificate_id: uuid.UUID, *, reason: str
) -> Certificate:
    """Revokes a valid certificate with a reason; revoking twice is refused (409)."""
    certificate = await repository.get(session, certificate_id, lock=True)
    if certificate is None:
        raise NotFound("Sertifikat tidak ditemukan.")
    if certificate.status == STATUS_REVOKED:
        raise DomainError(
            "Sertifikat ini sudah dicabut sebelumnya.", status=409, code="sudah_dicabut"
        )
    certificate.status = STATUS_REVOKED
    certificate.revoked_at = utcnow()
    certificate.revoke_reason = reason
    await session.flush()
    return certificate
