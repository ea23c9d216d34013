"""Report periods: `2025-03`, `2025-Q1`, `2025-S1`, `2025`, or explicit from/to (pure)."""

from __future__ import annotations

import calendar
import re
from datetime import date

from shared.problems import DomainError

_PATTERN = re.compile(r"^([0-9]{4})(?:-(?:([0-9]{2})|Q([1-4])|S([12])))?\Z")
# Reports cover the years a survey can have been held in: Python's dates end at 9999-12-31, and
# a report period reaches a day past its end (whole-month arithmetic), so wild years would fail.
FIRST_YEAR, LAST_YEAR = 2000, 2100


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
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise _invalid(f"Tahun pada periode harus {FIRST_YEAR} sampai {LAST_YEAR}.", "period")
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
    for value, field, label in ((start, "from", "awal"), (end, "to", "akhir")):
        if not FIRST_YEAR <= value.year <= LAST_YEAR:
            raise _invalid(
                f"Tanggal {label} ({field}) harus antara tahun {FIRST_YEAR} dan {LAST_YEAR}.",
                field,
            )
    if start > end:
        raise _invalid("Tanggal awal (from) tidak boleh sesudah tanggal akhir (to).", "from")
    return start, end
