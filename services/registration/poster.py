"""The printable activity poster (PDF): the only file that touches WeasyPrint."""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

from shared.pages import page_templates

_templates = page_templates(__file__)
_lock = threading.Lock()  # one render at a time: the font configuration is shared


@lru_cache(maxsize=1)
def _fonts() -> Any:
    # One FontConfiguration per process: a new one per document grows memory without bound.
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def render_poster(**context: Any) -> bytes:
    """Renders the poster of one activity to PDF bytes."""
    from weasyprint import HTML  # importing takes ~1 s: only when a poster is asked for

    html = _templates.get_template("poster.html").render(**context)
    with _lock:
        pdf: bytes = HTML(string=html).write_pdf(font_config=_fonts())
    return pdf
