"""The only file that draws: IKM charts (matplotlib SVG) and PDFs (WeasyPrint) of the survey.

One renderer per process (WeasyPrint and matplotlib are slow to import and not thread-safe):
callers run `render_*` in a worker thread, one at a time (the lock).
"""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import Any

import jinja2
import segno
from markupsafe import Markup

from services.survey.ikm_schemes import SCHEMES
from shared.dates import format_date_id

TEMPLATES = Path(__file__).parent / "templates"
_LOCK = threading.Lock()
_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
    undefined=jinja2.StrictUndefined,
)  # fmt: skip


def _svg(figure: Any) -> Markup:
    out = io.StringIO()
    figure.savefig(out, format="svg", bbox_inches="tight")
    text = out.getvalue()
    # matplotlib writes the SVG itself from numbers and fixed labels (no user text).
    return Markup(text[text.index("<svg") :])  # noqa: S704


def unsur_chart(report: dict[str, Any]) -> Markup:
    """Bar chart of NRR x 25 per unsur (an unsur nobody answered has no bar)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    matplotlib.rcParams["svg.fonttype"] = "path"
    codes = [u["code"] for u in report["unsur"]]
    answered = [(i, float(u["konversi"])) for i, u in enumerate(report["unsur"]) if u["konversi"]]
    fig = Figure(figsize=(7, 2.8))
    ax = fig.subplots()
    bars = ax.bar([i for i, _ in answered], [v for _, v in answered], color="#2680c2")
    ax.bar_label(bars, labels=[f"{v:.2f}" for _, v in answered], fontsize=7)
    ax.set_xticks(range(len(codes)), codes)
    ax.set_xlim(-0.6, len(codes) - 0.4)
    ax.set_ylim(0, 105)
    ax.set_ylabel("NRR x 25")
    ax.axhline(88.31, color="#999", linewidth=0.6, linestyle="--")
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def trend_chart(report: dict[str, Any]) -> Markup:
    """Line of the monthly konversi IKM (months with incomplete unsur are left out)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    points = [(m["month"], float(m["konversi_display"])) for m in report["trend"]
              if m["konversi_display"]]  # fmt: skip
    fig = Figure(figsize=(7, 2.4))
    ax = fig.subplots()
    if points:
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", color="#2680c2")
    ax.set_ylim(25, 101)
    ax.set_ylabel("IKM (x 25)")
    ax.tick_params(axis="x", labelsize=7, rotation=45)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def _qr(url: str) -> Markup:
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=8, xmldecl=False, svgns=True)
    return Markup(out.getvalue().decode())  # noqa: S704 - segno's SVG from the unit's URL


def _pdf(html: str) -> bytes:
    import weasyprint

    pdf = weasyprint.HTML(string=html, base_url=None).write_pdf()
    assert isinstance(pdf, bytes)
    return pdf


def render_report(report: dict[str, Any], *, title: str, generated: Any) -> bytes:
    """The IKM report PDF: headline, per-unsur table and chart, trend, tables, sample check."""
    with _LOCK:
        html = _env.get_template("report.html").render(
            r=report, title=title, generated=format_date_id(generated),
            scheme=SCHEMES[report["scheme_id"]], unsur_svg=unsur_chart(report),
            trend_svg=trend_chart(report),
        )  # fmt: skip
        return _pdf(html)


def render_poster(*, unit_name: str, tenant_name: str, url: str) -> bytes:
    """A printable A4 poster: the unit's name, the call to action and its QR code."""
    with _LOCK:
        html = _env.get_template("poster.html").render(
            unit_name=unit_name, tenant_name=tenant_name, url=url, qr=_qr(url)
        )
        return _pdf(html)
