"""Report periods: `2025-03`, `2025-Q1`, `2025-S1`, `2025`, or explicit from/to (pure)."""

from __future__ import annotations

import calendar
import re
from datetime import date

from shared.problems import Problem

_PATTERN = re.compile(r"^([0-9]{4})(?:-(?:([0-9]{2})|Q([1-4])|S([12])))?\Z")
# Reports cover the years a survey can have been held in: Python's dates end at 9999-12-31, and
# a report period reaches a day past its end (whole-month arithmetic), so wild years would fail.
FIRST_YEAR, LAST_YEAR = 2000, 2100


class UnknownPeriod(Problem):
    """A period that is none of the shortcuts (2025-03, 2025-Q1, 2025-S1, 2025)."""


class PeriodYearOutOfRange(Problem):
    """A period's year outside FIRST_YEAR..LAST_YEAR (facts: first, last)."""


class PeriodMonthOutOfRange(Problem):
    """A period's month outside 01..12."""


class PeriodAndRange(Problem):
    """Both a period shortcut and from/to were given."""


class DateYearOutOfRange(Problem):
    """A from/to date outside FIRST_YEAR..LAST_YEAR (field from/to; facts label, first, last)."""


class RangeReversed(Problem):
    """from falls after to."""


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def parse_period(period: str) -> tuple[date, date]:
    """Turns a period shortcut into its first and last local dates."""
    match = _PATTERN.match(period.strip())
    if not match:
        raise UnknownPeriod()
    year = int(match.group(1))
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise PeriodYearOutOfRange(first=FIRST_YEAR, last=LAST_YEAR)
    month, quarter, semester = match.group(2), match.group(3), match.group(4)
    if month is not None:
        m = int(month)
        if not 1 <= m <= 12:
            raise PeriodMonthOutOfRange()
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
            raise PeriodAndRange()
        return parse_period(period)
    start = start or date(this_year, 1, 1)
    end = end or date(this_year, 12, 31)
    for value, field, label in ((start, "from", "awal"), (end, "to", "akhir")):
        if not FIRST_YEAR <= value.year <= LAST_YEAR:
            raise DateYearOutOfRange(field=field, label=label, first=FIRST_YEAR, last=LAST_YEAR)
    if start > end:
        raise RangeReversed()
    return start, end
