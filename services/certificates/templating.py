"""Tenant certificate templates: Jinja2 in its sandbox, checked when uploaded, never at render.

A template may use only the placeholders the renderer provides: `c.<field>` for each field of
CertificateContent, plus `event_date`, `issued_on`, `issued_place`, `qr_svg`, `name_size` and
`logo`. Anything else is refused with its name, so a typo never reaches a participant's PDF.
"""

from __future__ import annotations

import re
from dataclasses import asdict, fields

import jinja2
from jinja2 import meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from services.certificates.render import SAMPLE_CONTENT, CertificateContent

CONTENT_FIELDS = frozenset(f.name for f in fields(CertificateContent))
TOP_LEVEL = frozenset(
    {"c", "event_date", "issued_on", "issued_place", "qr_svg", "name_size", "logo"}
)
MAX_TEMPLATE_CHARS = 200_000
MAX_LOGO_CHARS = 700_000  # about 500 KB of image as base64
_LOGO = re.compile(r"^data:image/(png|jpeg|svg\+xml);base64,[A-Za-z0-9+/=\s]+$")


class TemplateRefused(ValueError):
    """A template or logo that cannot be used; the message is for operators (Indonesian)."""

    def __init__(self, message: str, *, field: str = "html") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def sandboxed_environment() -> SandboxedEnvironment:
    """The environment tenant templates render in: sandboxed, escaped, strict."""
    return SandboxedEnvironment(
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )


def unknown_placeholders(source: str) -> list[str]:
    """The placeholders a template uses that the renderer does not provide, sorted."""
    tree = sandboxed_environment().parse(source)
    unknown = set(meta.find_undeclared_variables(tree)) - TOP_LEVEL
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        assert isinstance(node, nodes.Getattr | nodes.Getitem)
        target = node.node
        if not (isinstance(target, nodes.Name) and target.name == "c"):
            continue
        attr = node.attr if isinstance(node, nodes.Getattr) else _const(node.arg)
        if attr is not None and attr not in CONTENT_FIELDS:
            unknown.add(f"c.{attr}")
    return sorted(unknown)


def _const(node: nodes.Node) -> str | None:
    return str(node.value) if isinstance(node, nodes.Const) else None


def check_template(source: str) -> None:
    """Raises TemplateRefused when a template cannot render every certificate."""
    if not source.strip():
        raise TemplateRefused("Templat kosong.")
    if len(source) > MAX_TEMPLATE_CHARS:
        raise TemplateRefused(f"Templat terlalu panjang (maksimal {MAX_TEMPLATE_CHARS} karakter).")
    try:
        unknown = unknown_placeholders(source)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateRefused(
            f"Templat tidak dapat dibaca pada baris {exc.lineno}: {exc.message}"
        ) from exc
    if unknown:
        names = ", ".join(unknown)
        raise TemplateRefused(
            f"Templat memakai isian yang tidak dikenal: {names}. "
            f"Isian yang tersedia: c.<{', '.join(sorted(CONTENT_FIELDS))}>, "
            f"{', '.join(sorted(TOP_LEVEL - {'c'}))}."
        )
    _trial_render(source)


def _trial_render(source: str) -> None:
    """Renders the template once with sample data, so the sandbox refuses unsafe code now."""
    try:
        sandboxed_environment().from_string(source).render(
            c=asdict(SAMPLE_CONTENT),
            event_date="5 Desember 2026",
            issued_on="5 Desember 2026",
            issued_place="Contoh",
            qr_svg=Markup("<svg></svg>"),
            name_size="name-l",
            logo=None,
        )
    except SecurityError as exc:
        raise TemplateRefused(f"Templat memakai perintah yang tidak diizinkan: {exc}") from exc
    except Exception as exc:
        raise TemplateRefused(
            f"Templat gagal dicoba dengan data contoh: {type(exc).__name__}: {exc}"
        ) from exc


def check_logo(logo: str | None) -> None:
    """Raises TemplateRefused unless the logo is a small PNG, JPEG or SVG data: URL."""
    if logo is None:
        return
    if len(logo) > MAX_LOGO_CHARS or not _LOGO.match(logo):
        raise TemplateRefused(
            "Logo harus berupa data URL gambar PNG, JPEG atau SVG (base64) "
            "dengan ukuran paling besar sekitar 500 KB.",
            field="logo",
        )
