"""Every service's logging keeps PDF libraries' INFO chatter out, and their warnings in."""

from __future__ import annotations

import json
import logging

import pytest
import structlog

from shared.logging import configure_logging


def test_font_subsetting_and_layout_info_is_silent_but_warnings_show(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Certificates and survey reports both render PDFs: fontTools (without HarfBuzz subsetting)
    # logs about a hundred INFO lines per font, WeasyPrint its layout steps.
    configure_logging("certificates", fmt="json")
    try:
        logging.getLogger("fontTools.subset").info("Glyph names: ...")
        logging.getLogger("weasyprint.progress").info("Step 5 - Creating layout")
        logging.getLogger("fontTools.ttLib").warning("font table broken")
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers[:] = []
    assert [line["event"] for line in lines] == ["font table broken"]
    assert lines[0]["service"] == "certificates"
