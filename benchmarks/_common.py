"""What a benchmark returns and how the runner prints it (a markdown table for the README)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Result:
    """One measured path: `events` handled in `seconds`.

    `baseline` names the row of the same run this one is compared with (a raw row names itself);
    `detail` is a footnote on where the time went (round trips per event and the like).
    """

    path: str
    events: int
    seconds: float
    baseline: str | None = None
    detail: str = ""

    @property
    def rate(self) -> float:
        """Events per second."""
        return self.events / self.seconds if self.seconds > 0 else float("inf")


def markdown_table(results: Sequence[Result]) -> str:
    """Renders results as a markdown table, ratios against their baselines, footnotes after."""
    by_path = {r.path: r for r in results}
    lines = [
        "| path | events | seconds | events/s | ratio vs baseline |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in results:
        base = by_path.get(r.baseline) if r.baseline else None
        ratio = f"{r.rate / base.rate:.3f}" if base else "-"
        lines.append(f"| {r.path} | {r.events} | {r.seconds:.3f} | {r.rate:,.0f} | {ratio} |")
    notes = [f"- {r.path}: {r.detail}" for r in results if r.detail]
    if notes:
        lines += ["", *notes]
    return "\n".join(lines)


def env_int(name: str, default: int) -> int:
    """An integer from the environment, or the default when unset or empty."""
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def env_float(name: str, default: float) -> float:
    """A float from the environment, or the default when unset or empty."""
    value = os.environ.get(name, "").strip()
    return float(value) if value else default
