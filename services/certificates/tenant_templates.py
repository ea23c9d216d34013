"""Which template a kecamatan's certificates use: uploaded (database), tenant folder, or bundled.

Order: the template an operator uploaded (checked at upload), else `certificate.html` and
`logo.png`/`logo.svg` in the tenant folder (`deploy/tenants/<code>/`, checked at start-up:
a refused file is logged and ignored), else the bundled template.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from services.certificates import repository
from services.certificates.models import CertificateTemplate
from services.certificates.templating import TemplateRefused, check_logo, check_template
from shared.contracts import utcnow
from shared.logging import get_logger
from shared.problems import Problem

log = get_logger(__name__)
_LOGO_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".svg": "image/svg+xml"}


@dataclass(frozen=True)
class ChosenTemplate:
    """The template source and logo a kecamatan's certificates render with (None: bundled)."""

    origin: str  # "kecamatan" (uploaded), "berkas" (tenant folder), "bawaan" (bundled)
    html: str | None
    logo: str | None


BUNDLED = ChosenTemplate("bawaan", None, None)


class TemplateNotAccepted(Problem):
    """An uploaded template or logo cannot be used (facts: detail, in Indonesian; field)."""


class NoOwnTemplate(Problem):
    """The kecamatan has no uploaded template to remove."""


def refused(exc: TemplateRefused) -> TemplateNotAccepted:
    """The refusal of a template, naming the bad field."""
    return TemplateNotAccepted(field=exc.field, detail=exc.message)


def folder_templates(tenants_dir: Path, codes: list[str]) -> dict[str, ChosenTemplate]:
    """Templates found in tenant folders; refused ones are logged and left out."""
    found: dict[str, ChosenTemplate] = {}
    for code in codes:
        folder = tenants_dir / code
        source = folder / "certificate.html"
        if not source.is_file():
            continue
        html = source.read_text(encoding="utf-8")
        logo = _folder_logo(folder)
        try:
            check_template(html)
            check_logo(logo)
        except TemplateRefused as exc:
            log.error(
                "certificate.template_refused", tenant=code, path=str(source), reason=str(exc)
            )
            continue
        found[code] = ChosenTemplate("berkas", html, logo)
    return found


def _folder_logo(folder: Path) -> str | None:
    for suffix, mime in _LOGO_TYPES.items():
        path = folder / f"logo{suffix}"
        if path.is_file():
            return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"
    return None


def choose(
    uploaded: CertificateTemplate | None, folder: dict[str, ChosenTemplate], tenant: str
) -> ChosenTemplate:
    """The template a kecamatan uses now."""
    if uploaded is not None:
        return ChosenTemplate("kecamatan", uploaded.html, uploaded.logo)
    return folder.get(tenant, BUNDLED)


def check(html: str, logo: str | None) -> None:
    """Checks a template and logo; raises the 422 refusal naming the bad placeholder."""
    try:
        check_template(html)
        check_logo(logo)
    except TemplateRefused as exc:
        raise refused(exc) from exc


async def upload(
    session: AsyncSession, *, tenant: str, html: str, logo: str | None, by: str
) -> CertificateTemplate:
    """Stores a kecamatan's template after checking every placeholder (422 names the bad one)."""
    check(html, logo)
    row = await repository.template(session, tenant)
    if row is None:
        row = CertificateTemplate(
            tenant=tenant, html=html, logo=logo, updated_at=utcnow(), updated_by=by
        )
        await repository.add(session, row)
    else:
        row.html, row.logo, row.updated_at, row.updated_by = html, logo, utcnow(), by
        await session.flush()
    log.info("certificate.template_uploaded", tenant=tenant, chars=len(html), logo=logo is not None)
    return row


async def remove(session: AsyncSession, tenant: str) -> None:
    """Removes a kecamatan's uploaded template (404 when it has none)."""
    if not await repository.delete_template(session, tenant):
        raise NoOwnTemplate()
