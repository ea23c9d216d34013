"""Public HTML pages of the certificates service: the verification page the QR code opens."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse

from services.certificates import repository
from services.certificates.api import issuer_name
from services.certificates.brochure import brochure_context, sticker_context
from services.certificates.context import CertificatesContext, ContextDep
from services.certificates.models import STATUS_VALID, Certificate
from services.certificates.renderpool import RenderJob
from shared.dates import as_utc, format_date_id, local_date
from shared.pages import page_templates
from shared.runtime import Runtime
from shared.tenants import TenantNotServed
from shared.web import RuntimeDep, SessionDep

router = APIRouter()
_templates = page_templates(__file__)


@router.get("/verify/{certificate_id}", response_class=HTMLResponse, tags=["public"])
async def verify_page(
    certificate_id: str, session: SessionDep, runtime: RuntimeDep
) -> HTMLResponse:
    """Shows whether a certificate is genuine, revoked or unknown (public)."""
    try:
        certificate = await repository.get(session, uuid.UUID(certificate_id))
    except ValueError:
        certificate = None
    if certificate is None:
        return HTMLResponse(render_verify_page(None), status_code=404)
    tenant = runtime.tenant(certificate.tenant)
    return HTMLResponse(
        render_verify_page(
            certificate,
            issuer=issuer_name(runtime, certificate),
            timezone=tenant.timezone if tenant else "Asia/Jakarta",
        )
    )


def render_verify_page(
    certificate: Certificate | None, *, issuer: str = "", timezone: str = "Asia/Jakarta"
) -> str:
    """The verification page's HTML (every value escaped by the template)."""
    context: dict[str, Any] = {"found": certificate is not None, "c": certificate, "issuer": issuer}
    if certificate is not None:
        revoked_at, reissued_at = certificate.revoked_at, certificate.reissued_at
        context.update(
            reissued_on=format_date_id(local_date(as_utc(reissued_at), timezone))
            if reissued_at
            else "",
            valid=certificate.status == STATUS_VALID,
            activity_date=format_date_id(certificate.activity_date),
            issued_on=format_date_id(local_date(as_utc(certificate.issued_at), timezone)),
            revoked_on=format_date_id(local_date(as_utc(revoked_at), timezone))
            if revoked_at
            else "",
        )
    return _templates.get_template("verify.html").render(**context)


async def _tenant_pdf(
    runtime: Runtime, context: CertificatesContext, kind: str, code: str
) -> bytes:
    """The tenant's brochure or sticker, rendered once per process and kept."""
    tenant = runtime.tenant(code)
    if tenant is None:
        raise TenantNotServed(tenant=code)
    cached = context.documents.get((kind, tenant.code))
    if cached is None:
        payload = brochure_context(tenant) if kind == "brochure" else sticker_context(tenant)
        cached = await context.pool.run(RenderJob(kind, payload))
        context.documents[(kind, tenant.code)] = cached
    return cached


def _pdf_response(pdf: bytes, filename: str) -> Response:
    return Response(
        content=pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{filename}"',
            "Cache-Control": "public, max-age=3600",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/brosur.pdf", tags=["public"], responses={200: {"content": {"application/pdf": {}}}})
async def brochure(runtime: RuntimeDep, context: ContextDep, tenant: str | None = None) -> Response:
    """The requirements brochure (A5, printable) of a kecamatan, from its tenant file."""
    code = tenant or runtime.settings.default_tenant
    pdf = await _tenant_pdf(runtime, context, "brochure", code)
    return _pdf_response(pdf, f"brosur-{code}.pdf")


@router.get("/stiker.pdf", tags=["public"], responses={200: {"content": {"application/pdf": {}}}})
async def sticker(runtime: RuntimeDep, context: ContextDep, tenant: str | None = None) -> Response:
    """The consultation sticker: a QR code to the kecamatan's WhatsApp number (wa.me)."""
    code = tenant or runtime.settings.default_tenant
    pdf = await _tenant_pdf(runtime, context, "sticker", code)
    return _pdf_response(pdf, f"stiker-{code}.pdf")
