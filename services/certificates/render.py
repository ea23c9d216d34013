"""Render e-certificates (sertifikat elektronik) to PDF with WeasyPrint.

This is the only module of the project that touches WeasyPrint. Notes from
shared/DESIGN.md that shape it:

* ``import weasyprint`` takes about a second: it is imported once, lazily, when
  the first :class:`CertificateRenderer` is built (importing this module for
  :class:`CertificateContent` stays cheap), and worker processes stay alive.
* One ``FontConfiguration`` and the pre-parsed stylesheet are reused for every
  document of the process: a new ``FontConfiguration`` per document grows memory
  without bound, and re-parsing CSS costs about 40% per render.
* Without the system library ``libharfbuzz-subset0`` WeasyPrint subsets fonts with
  fontTools, about 10x slower: :func:`warn_if_slow_fonts` says so at start-up.
* Nothing is fetched from the network or the file system while rendering: the URL
  fetcher refuses every URL that is not a ``data:`` URL, so a template cannot make
  the renderer hang on a remote resource.
"""

from __future__ import annotations

import base64
import ctypes.util
import re
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol

import jinja2
import segno
from markupsafe import Markup

from shared.dates import format_date_id

__all__ = [
    "HARFBUZZ_SUBSET_HINT",
    "CertificateContent",
    "CertificateRenderer",
    "format_date_id",
    "harfbuzz_subset_available",
    "warn_if_slow_fonts",
]

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATE_NAME = "certificate.html"
STYLESHEET_NAME = "certificates.css"

HARFBUZZ_SUBSET_HINT = "apt-get install libharfbuzz-subset0"
FONTS_DIR = Path(__file__).resolve().parent / "fonts"
# The bundled DejaVu faces (Latin with every diacritic, Greek, Cyrillic and more) under the
# family names the stylesheets use, so a host without them still prints every glyph.
BUNDLED_FACES = (
    ("DejaVu Sans", "normal", "normal", "DejaVuSans.ttf"),
    ("DejaVu Sans", "bold", "normal", "DejaVuSans-Bold.ttf"),
    ("DejaVu Serif", "normal", "normal", "DejaVuSerif.ttf"),
    ("DejaVu Serif", "bold", "normal", "DejaVuSerif-Bold.ttf"),
    ("DejaVu Serif", "normal", "italic", "DejaVuSerif-Italic.ttf"),
    ("DejaVu Sans Mono", "normal", "normal", "DejaVuSansMono.ttf"),
)

# Bahasa Indonesia month names; no dependency on the system's locales.


@dataclass(frozen=True)
class CertificateContent:
    """Everything printed on one certificate. All text is escaped when rendered."""

    number: str  # e.g. "0001/SERT-MENJAMU/MOJOSARI/2026"
    participant_name: str
    school: str  # asal sekolah / instansi / organisasi
    level: str  # SMP, SMA, Mahasiswa, Organisasi Masyarakat
    event_title: str
    event_date: date
    event_location: str
    tenant_name: str  # "Kecamatan Mojosari"
    kabupaten: str  # "Kabupaten Mojokerto"
    programme: str  # "SI GEN-Z MENJAMU (...)"
    signer_name: str  # the camat
    signer_title: str  # e.g. "Plt. Camat Mojosari"
    verify_url: str
    issued_on: date
    # Place printed before the issue date ("Mojosari, 28 November 2026");
    # by default the tenant's name without its "Kecamatan " prefix.
    issued_place: str | None = None


SAMPLE_CONTENT = CertificateContent(
    number="0001/SERT-MENJAMU/CONTOH/2026",
    participant_name="Ayu Lestari Wulandari",
    school="SMA Negeri 1 Contoh",
    level="SMA",
    event_title="Sosialisasi Administrasi Kependudukan",
    event_date=date(2026, 12, 5),
    event_location="Pendopo Kecamatan",
    tenant_name="Kecamatan Contoh",
    kabupaten="Kabupaten Contoh",
    programme="SI GEN-Z MENJAMU",
    signer_name="Nama Camat",
    signer_title="Camat Contoh",
    verify_url="https://sertifikat.example.id/verify/contoh",
    issued_on=date(2026, 12, 5),
)


class _Logger(Protocol):
    def warning(self, event: str, /, **kw: Any) -> Any: ...


def harfbuzz_subset_available() -> bool:
    """True when the system library libharfbuzz-subset (fast font subsetting) is found."""
    return ctypes.util.find_library("harfbuzz-subset") is not None


def warn_if_slow_fonts(log: _Logger) -> None:
    """Log ``certificates.harfbuzz_subset_missing`` when renders will be ~10x slower.

    ``log`` is a structlog-style logger; call this once at service start-up.
    """
    if not harfbuzz_subset_available():
        log.warning(
            "certificates.harfbuzz_subset_missing",
            hint=HARFBUZZ_SUBSET_HINT,
            effect="fonts are subset with fontTools: about 10x slower per certificate",
        )


def _default_place(tenant_name: str) -> str:
    return re.sub(r"^\s*kecamatan\s+", "", tenant_name, flags=re.IGNORECASE).strip()


def _qr_svg(url: str) -> Markup:
    """The verification QR code as an inline ``<svg>`` sized by CSS (class ``qr``)."""
    qr = segno.make(url, error="m", micro=False)
    svg = qr.svg_inline(
        scale=1,
        border=4,  # the quiet zone the standard asks for
        dark="#000",
        light="#fff",
        omitsize=True,
        svgclass="qr",
        lineclass=None,
    )
    # segno builds the SVG itself; the URL only shapes the modules, never text.
    return Markup(svg)  # noqa: S704 - generated by segno, holds no user text


def bundled_fonts_css() -> str:
    """@font-face rules for the bundled fonts, as data: URLs (the renderer fetches no files)."""
    rules = []
    for family, weight, style, filename in BUNDLED_FACES:
        data = base64.b64encode((FONTS_DIR / filename).read_bytes()).decode("ascii")
        rules.append(
            f'@font-face {{ font-family: "{family}"; font-weight: {weight}; '
            f"font-style: {style}; src: url(data:font/ttf;base64,{data}); }}"
        )
    return "\n".join(rules)


def _data_only_url_fetcher() -> Any:
    """A WeasyPrint (>= 68) URL fetcher that only serves ``data:`` URLs.

    Any other URL (http, https, file, relative, ...) is refused with ``ValueError``
    before anything is opened: WeasyPrint logs a warning and renders without that
    resource, so a template can neither hang the renderer on the network nor read
    local files.
    """
    from weasyprint.urls import URLFetcher

    return URLFetcher(
        timeout=1,
        allowed_protocols=("data",),
        allow_redirects=False,
        fail_on_errors=False,
    )


class CertificateRenderer:
    """Renders :class:`CertificateContent` to a one-page A4 landscape PDF.

    Build one instance per process at start-up and keep it: the constructor imports
    WeasyPrint (slow), loads the Jinja2 template, creates the process's single
    ``FontConfiguration`` (:attr:`font_config`) and parses the stylesheet once
    (:attr:`stylesheet`); every :meth:`render` reuses them.

    Threading: the renderer is thread-compatible, not thread-safe. It keeps no
    per-document state, but WeasyPrint's font configuration (Pango/fontconfig
    objects) must not be used by two renders at once. Call :meth:`render` from one
    thread at a time; the certificates service calls it from a single worker thread
    with ``asyncio.to_thread`` so the event loop is never blocked. To render in
    parallel, use several processes, each with its own renderer.
    """

    def __init__(self, templates_dir: Path | str | None = None) -> None:
        import weasyprint
        from weasyprint.text.fonts import FontConfiguration

        folder = Path(templates_dir) if templates_dir is not None else TEMPLATES_DIR
        self._weasyprint = weasyprint
        self.url_fetcher = _data_only_url_fetcher()
        self.font_config = FontConfiguration()
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(folder)),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env = env
        self._tenant_templates: dict[str, jinja2.Template] = {}
        self._template = env.get_template(TEMPLATE_NAME)
        self.fonts = weasyprint.CSS(
            string=bundled_fonts_css(),
            font_config=self.font_config,
            url_fetcher=self.url_fetcher,
        )
        self.stylesheet = weasyprint.CSS(
            string=(folder / STYLESHEET_NAME).read_text(encoding="utf-8"),
            font_config=self.font_config,
            url_fetcher=self.url_fetcher,
        )

    def render_html(
        self, content: CertificateContent, template: str | None = None, logo: str | None = None
    ) -> str:
        """The certificate as HTML (every user-supplied text escaped); `template` is a
        tenant's Jinja2 source (sandboxed, checked at upload), else the bundled one."""
        fields = asdict(content)
        place = content.issued_place or _default_place(content.tenant_name)
        chosen = self._template if template is None else self._tenant_template(template)
        return chosen.render(
            c=fields,
            event_date=format_date_id(content.event_date),
            issued_on=format_date_id(content.issued_on),
            issued_place=place,
            qr_svg=_qr_svg(content.verify_url),
            name_size=_name_size_class(content.participant_name),
            logo=logo,
        )

    def _tenant_template(self, source: str) -> jinja2.Template:
        compiled = self._tenant_templates.get(source)
        if compiled is None:
            from services.certificates.templating import sandboxed_environment

            if len(self._tenant_templates) >= 16:  # a few tenants per process at most
                self._tenant_templates.clear()
            compiled = sandboxed_environment().from_string(source)
            self._tenant_templates[source] = compiled
        return compiled

    def render(
        self, content: CertificateContent, template: str | None = None, logo: str | None = None
    ) -> bytes:
        """Render one certificate and return the PDF bytes (A4 landscape, one page)."""
        html = self._weasyprint.HTML(
            string=self.render_html(content, template, logo),
            base_url=None,
            url_fetcher=self.url_fetcher,
        )
        pdf = html.write_pdf(
            stylesheets=[self.fonts, self.stylesheet],
            font_config=self.font_config,
        )
        assert isinstance(pdf, bytes)
        return pdf

    def render_document(self, template_name: str, **context: Any) -> bytes:
        """Render another document of the folder (brochure, sticker): its own inline CSS."""
        html = self._weasyprint.HTML(
            string=self._env.get_template(template_name).render(**context),
            base_url=None,
            url_fetcher=self.url_fetcher,
        )
        pdf = html.write_pdf(stylesheets=[self.fonts], font_config=self.font_config)
        assert isinstance(pdf, bytes)
        return pdf

    def render_job(self, kind: str, payload: Any) -> bytes:
        """Render one job sent by the render pool (see renderpool.py)."""
        if kind == "certificate":
            if isinstance(payload, CertificateContent):
                return self.render(payload)
            content, template, logo = payload
            return self.render(content, template, logo)
        if kind == "brochure":
            return self.render_document("brochure.html", b=payload)
        if kind == "sticker":
            return self.render_document(
                "sticker.html", s=payload, qr_svg=_qr_svg(payload["qr_url"])
            )
        raise ValueError(f"unknown render job {kind!r}")


def _name_size_class(name: str) -> str:
    """Shrink very long names so they stay on one or two lines of the page."""
    length = len(name)
    if length <= 28:
        return "name-l"
    if length <= 42:
        return "name-m"
    if length <= 70:
        return "name-s"
    return "name-xs"
