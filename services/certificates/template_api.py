"""HTTP routes for a kecamatan's certificate template: upload, read, remove, preview."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from services.certificates import repository, tenant_templates
from services.certificates.context import ContextDep
from services.certificates.render import SAMPLE_CONTENT, CertificateContent
from services.certificates.templating import MAX_LOGO_CHARS, MAX_TEMPLATE_CHARS
from shared.tenants import Tenant
from shared.web import OperatorDep, RuntimeDep, SessionDep, resolve_tenant

router = APIRouter(prefix="/api/v1/certificates", tags=["operator"])


class TemplateUpload(BaseModel):
    """A kecamatan's certificate template (Jinja2 HTML) and optional logo (data: URL)."""

    model_config = ConfigDict(extra="forbid")

    html: str = Field(min_length=1, max_length=MAX_TEMPLATE_CHARS)
    logo: str | None = Field(default=None, max_length=MAX_LOGO_CHARS)


class TemplateRead(BaseModel):
    """The template a kecamatan's certificates use now."""

    tenant: str
    origin: Literal["kecamatan", "berkas", "bawaan"] = Field(
        description="kecamatan: uploaded; berkas: tenant folder file; bawaan: bundled."
    )
    html: str | None
    has_logo: bool


def sample(tenant: Tenant) -> CertificateContent:
    """Sample certificate data with the kecamatan's own facts."""
    return replace(
        SAMPLE_CONTENT,
        tenant_name=tenant.name,
        kabupaten=tenant.kabupaten,
        programme=tenant.programme or SAMPLE_CONTENT.programme,
        signer_name=tenant.camat or SAMPLE_CONTENT.signer_name,
        signer_title=tenant.camat_title,
    )


def _pdf(pdf: bytes) -> Response:
    headers = {"Content-Disposition": 'inline; filename="pratinjau-sertifikat.pdf"'}
    return Response(content=pdf, media_type="application/pdf", headers=headers)


@router.put("/template", response_model=TemplateRead)
async def upload_template(
    data: TemplateUpload,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: OperatorDep,
    tenant: str | None = None,
) -> TemplateRead:
    """Uploads the kecamatan's template; an unknown placeholder is refused by name (422)."""
    code = resolve_tenant(runtime, principal, tenant).code
    row = await tenant_templates.upload(
        session, tenant=code, html=data.html, logo=data.logo, by=principal.subject
    )
    return TemplateRead(tenant=code, origin="kecamatan", html=row.html, has_logo=bool(row.logo))


@router.get("/template", response_model=TemplateRead)
async def read_template(
    session: SessionDep,
    runtime: RuntimeDep,
    context: ContextDep,
    principal: OperatorDep,
    tenant: str | None = None,
) -> TemplateRead:
    """The template the kecamatan's certificates use now."""
    code = resolve_tenant(runtime, principal, tenant).code
    chosen = tenant_templates.choose(
        await repository.template(session, code), context.finisher.folder_templates, code
    )
    return TemplateRead(
        tenant=code,
        origin=chosen.origin,
        html=chosen.html,
        has_logo=bool(chosen.logo),
    )


@router.delete("/template", status_code=204)
async def remove_template(
    session: SessionDep, runtime: RuntimeDep, principal: OperatorDep, tenant: str | None = None
) -> Response:
    """Goes back to the tenant folder's or the bundled template."""
    code = resolve_tenant(runtime, principal, tenant).code
    await tenant_templates.remove(session, code)
    return Response(status_code=204)


@router.get("/preview", responses={200: {"content": {"application/pdf": {}}}})
async def preview(
    session: SessionDep,
    runtime: RuntimeDep,
    context: ContextDep,
    principal: OperatorDep,
    template: Literal["kecamatan", "berkas", "bawaan"] = "kecamatan",
    tenant: str | None = None,
) -> Response:
    """A sample certificate with a template: the kecamatan's current one, its folder file,
    or the bundled one."""
    found = resolve_tenant(runtime, principal, tenant)
    chosen = tenant_templates.BUNDLED
    if template != "bawaan":
        uploaded = (
            await repository.template(session, found.code) if template == "kecamatan" else None
        )
        chosen = tenant_templates.choose(uploaded, context.finisher.folder_templates, found.code)
    return _pdf(await context.pool.render(sample(found), chosen.html, chosen.logo))


@router.post("/preview", responses={200: {"content": {"application/pdf": {}}}})
async def preview_draft(
    data: TemplateUpload,
    runtime: RuntimeDep,
    context: ContextDep,
    principal: OperatorDep,
    tenant: str | None = None,
) -> Response:
    """A sample certificate with a template not uploaded yet (checked like an upload)."""
    found = resolve_tenant(runtime, principal, tenant)
    tenant_templates.check(data.html, data.logo)
    return _pdf(await context.pool.render(sample(found), data.html, data.logo))
