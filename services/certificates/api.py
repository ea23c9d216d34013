"""HTTP routes of the certificates service: list, download, verification, revoke, re-issue."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from services.certificates import repository, service
from services.certificates.context import ContextDep
from services.certificates.models import STATUS_VALID, Certificate
from services.certificates.numbering import pdf_filename
from services.certificates.schemas import (
    CertificateRead,
    CertificateVerification,
    ReissueProgress,
    ReissueRequest,
    RevokeRequest,
)
from shared.auth import authorize
from shared.dates import as_utc
from shared.db import mark_after_commit
from shared.logging import get_logger
from shared.outbox import add_event
from shared.runtime import Runtime
from shared.web import OperatorDep, RuntimeDep, SessionDep, resolve_tenant

router = APIRouter(prefix="/api/v1")
log = get_logger(__name__)


def _public_url(runtime: Runtime) -> str:
    return runtime.settings.effective_public_url


def _read(runtime: Runtime, certificate: Certificate) -> CertificateRead:
    base = _public_url(runtime)
    return CertificateRead(
        id=certificate.id,
        tenant=certificate.tenant,
        number=certificate.number,
        registration_id=certificate.registration_id,
        activity_id=certificate.activity_id,
        status=certificate.status,
        issued_at=as_utc(certificate.issued_at),
        reissued_at=as_utc(certificate.reissued_at) if certificate.reissued_at else None,
        rendering=certificate.needs_render,
        revoked_at=as_utc(certificate.revoked_at) if certificate.revoked_at else None,
        revoke_reason=certificate.revoke_reason,
        download_url=service.download_url(base, certificate.id),
        verify_url=service.verify_url(base, certificate.id),
    )


def issuer_name(runtime: Runtime, certificate: Certificate) -> str:
    """The issuing kecamatan's name, or its code when its tenant file is gone."""
    tenant = runtime.tenant(certificate.tenant)
    return tenant.name if tenant else certificate.tenant


@router.get("/certificates", response_model=list[CertificateRead], tags=["operator"])
async def list_certificates(
    session: SessionDep,
    runtime: RuntimeDep,
    principal: OperatorDep,
    registration_id: uuid.UUID | None = None,
    tenant: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[CertificateRead]:
    """Lists issued certificates (PDF made) of a registration or a kecamatan (operator)."""
    code = None
    if tenant is not None or registration_id is None or principal.tenant != "*":
        code = resolve_tenant(runtime, principal, tenant).code
    rows = await repository.list_certificates(
        session, tenant=code, registration_id=registration_id, limit=limit, offset=offset
    )
    return [_read(runtime, row) for row in rows]


@router.get(
    "/certificates/{certificate_id}/pdf",
    tags=["public"],
    responses={200: {"content": {"application/pdf": {}}}},
)
async def download_pdf(
    certificate_id: uuid.UUID, session: SessionDep, context: ContextDep
) -> Response:
    """Downloads a valid certificate's PDF (public: the id is an unguessable link)."""
    certificate = await service.get_certificate(service.SqlCertificates(session), certificate_id)
    key = service.downloadable_key(certificate)
    pdf = await asyncio.to_thread(context.store.get, key)
    if pdf is None:
        log.error("certificate.pdf_missing", certificate_id=str(certificate.id), key=key)
        raise service.CertificateFileMissing()
    log.info(
        "certificate.downloaded", certificate_id=str(certificate.id), tenant=certificate.tenant
    )
    return Response(
        content=pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{pdf_filename(certificate.number)}"',
            "Cache-Control": "private, no-cache",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get(
    "/certificates/{certificate_id}/verification",
    response_model=CertificateVerification,
    tags=["public"],
)
async def verification(
    certificate_id: uuid.UUID, session: SessionDep, runtime: RuntimeDep
) -> CertificateVerification:
    """Tells machines whether a certificate is genuine and still valid (public)."""
    c = await service.get_certificate(service.SqlCertificates(session), certificate_id)
    return CertificateVerification(
        id=c.id,
        number=c.number,
        status=c.status,
        valid=c.status == STATUS_VALID,
        participant_name=c.participant_name,
        school=c.school,
        activity_title=c.activity_title,
        activity_date=c.activity_date,
        activity_location=c.activity_location,
        issuer=issuer_name(runtime, c),
        issued_at=as_utc(c.issued_at),
        reissued_at=as_utc(c.reissued_at) if c.reissued_at else None,
        revoked_at=as_utc(c.revoked_at) if c.revoked_at else None,
        revoke_reason=c.revoke_reason,
        verify_url=service.verify_url(_public_url(runtime), c.id),
    )


@router.post(
    "/certificates/{certificate_id}/revoke", response_model=CertificateRead, tags=["operator"]
)
async def revoke(
    certificate_id: uuid.UUID,
    data: RevokeRequest,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: OperatorDep,
) -> CertificateRead:
    """Revokes a certificate with a reason and announces it (operator of its kecamatan)."""
    store = service.SqlCertificates(session)
    certificate = await service.get_certificate(store, certificate_id)
    authorize(principal, ("operator",), certificate.tenant)
    certificate, revoked = await service.revoke_certificate(
        store, certificate_id, reason=data.reason
    )
    await add_event(session, revoked)
    log.info(
        "certificate.revoked",
        certificate_id=str(certificate.id),
        tenant=certificate.tenant,
        by=principal.subject,
    )
    return _read(runtime, certificate)


@router.post(
    "/certificates/{certificate_id}/reissue",
    response_model=ReissueProgress,
    status_code=202,
    tags=["operator"],
)
async def reissue_one(
    certificate_id: uuid.UUID, session: SessionDep, principal: OperatorDep
) -> ReissueProgress:
    """Makes a new PDF of one certificate; number, id and links stay (operator)."""
    store = service.SqlCertificates(session)
    certificate = await service.get_certificate(store, certificate_id)
    authorize(principal, ("operator",), certificate.tenant)
    progress = await service.reissue(
        store, tenant=certificate.tenant, certificate_id=certificate_id
    )
    mark_after_commit(session)  # wakes this replica's finisher once committed
    log.info("certificate.reissue_requested", certificate_id=str(certificate_id), **progress)
    return ReissueProgress(tenant=certificate.tenant, **progress)


@router.post(
    "/events/{activity_id}/certificates/reissue",
    response_model=ReissueProgress,
    status_code=202,
    tags=["operator"],
)
async def reissue_event(
    activity_id: uuid.UUID,
    data: ReissueRequest,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: OperatorDep,
    tenant: str | None = None,
) -> ReissueProgress:
    """Makes new PDFs of every valid certificate of an event, optionally retitled (operator)."""
    code = resolve_tenant(runtime, principal, tenant).code
    progress = await service.reissue(
        service.SqlCertificates(session),
        tenant=code,
        activity_id=activity_id,
        activity_title=data.activity_title,
    )
    mark_after_commit(session)
    log.info("certificate.reissue_requested", activity_id=str(activity_id), **progress)
    return ReissueProgress(tenant=code, activity_id=activity_id, **progress)


@router.get(
    "/events/{activity_id}/certificates/progress",
    response_model=ReissueProgress,
    tags=["operator"],
)
async def event_progress(
    activity_id: uuid.UUID,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: OperatorDep,
    tenant: str | None = None,
) -> ReissueProgress:
    """How many of an event's certificates still wait for their (new) PDF (operator)."""
    code = resolve_tenant(runtime, principal, tenant).code
    progress = await service.progress(
        service.SqlCertificates(session), tenant=code, activity_id=activity_id
    )
    return ReissueProgress(tenant=code, activity_id=activity_id, **progress)
