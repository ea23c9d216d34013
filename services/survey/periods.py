"""Report periods: `2025-03`, `2025-Q1`, `2025-S1`, `2025`, or explicit from/to (pure)."""

from __future__ import annotations

import calendar
import re
from datetime import date

from shared.problems import DomainError

_PATTERN = re.compile(r"^(\d{4})(?:-(?:(\d{2})|Q([1-4])|S([12])))?$")


def _invalid(message: str, field: str) -> DomainError:
    return DomainError(message, status=422, field=field, code="data_tidak_valid")


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def parse_period(period: str) -> tuple[date, date]:
    """Turns a period shortcut into its first and last local dates."""
    match = _PATTERN.match(period.strip())
    if not match:
        raise _invalid(
            "Periode tidak dikenal. Contoh: 2025-03 (bulan), 2025-Q1 (triwulan), "
            "2025-S1 (semester), 2025 (tahun).",
            "period",
        )
    year = int(match.group(1))
    month, quarter, semester = match.group(2), match.group(3), match.group(4)
    if month is not None:
        m = int(month)
        if not 1 <= m <= 12:
            raise _invalid("Bulan pada periode harus 01 sampai 12.", "period")
        return date(year, m, 1), _month_end(year, m)
    if quarter is not None:
        first = 3 * (int(quarter) - 1) + 1
        return date(year, first, 1), _month_end(year, first + 2)
    if semester is not None:
        first = 6 * (int(semester) - 1) + 1
        return date(year, first, 1), _month_end(year, first + 5)
    return date(year, 1, 1), date(year, 12, 31)


def resolve_period(
    period: str | None, start: date | None, end: date | None, this_year: int
) -> tuple[date, date]:
    """The period asked for: a shortcut, or from/to (default: this whole year)."""
    if period is not None:
        if start is not None or end is not None:
            raise _invalid("Pakai period atau from/to, tidak keduanya.", "period")
        return parse_period(period)
    start = start or date(this_year, 1, 1)
    end = end or date(this_year, 12, 31)
    if start > end:
        raise _invalid("Tanggal awal (from) tidak boleh sesudah tanggal akhir (to).", "from")
    return start, end
