"""Public HTML pages of the certificates service: the verification page the QR code opens."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from services.certificates import repository
from services.certificates.api import issuer_name
from services.certificates.models import STATUS_VALID, Certificate
from shared.dates import as_utc, format_date_id, local_date
from shared.pages import page_templates
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
