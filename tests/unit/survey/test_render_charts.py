"""The charts of the IKM report: one bar per answered unsur, one point per complete month."""

from __future__ import annotations

import re
from typing import Any

from services.survey.render import trend_chart, unsur_chart


def report(konversi: list[str | None], months: list[str | None]) -> dict[str, Any]:
    return {
        "unsur": [{"code": f"U{i + 1}", "konversi": k} for i, k in enumerate(konversi)],
        "trend": [{"month": f"2025-{i + 1:02d}", "konversi_display": m}
                  for i, m in enumerate(months)],
    }  # fmt: skip


def test_a_blank_unsur_has_no_bar() -> None:
    full = str(unsur_chart(report(["100.00"] * 9, [])))
    one_blank = str(unsur_chart(report(["100.00"] * 8 + [None], [])))
    assert full.startswith("<svg") and "<script" not in full
    assert full.count('id="patch_') - one_blank.count('id="patch_') == 1


def test_the_trend_line_leaves_out_incomplete_months() -> None:
    two = str(trend_chart(report([], ["80.00", None, "90.00"])))
    three = str(trend_chart(report([], ["80.00", "85.00", "90.00"])))
    assert two.startswith("<svg") and "line2d" in two
    assert points(two) == 2 and points(three) == 3


def points(svg: str) -> int:
    """Vertices of the trend line (the path stroked in the chart's blue)."""
    line = re.search(r'<path d="(M [^"]+)"[^>]*style="fill: none; stroke: #2680c2', svg)
    assert line is not None
    return line.group(1).count("L ") + 1
