"""Dates as people in Indonesia read them, and the tenant's local day."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

BULAN = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)


def format_date_id(value: date) -> str:
    """Formats a date the Indonesian way: date(2026, 11, 28) -> "28 November 2026"."""
    return f"{value.day} {BULAN[value.month - 1]} {value.year}"


def local_date(moment: datetime, timezone: str = "Asia/Jakarta") -> date:
    """Returns the calendar date of an aware moment in the tenant's time zone (WIB default)."""
    return moment.astimezone(ZoneInfo(timezone)).date()


def as_utc(value: datetime) -> datetime:
    """Returns an aware UTC datetime (SQLite gives back naive ones)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


HARI = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
ZONE_NAMES = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


def when_id(day: date, starts_at: datetime | None, ends_at: datetime | None, timezone: str) -> str:
    """'Sabtu, 5 Desember 2026, 08.00-11.00 WIB' in the tenant's zone; the date alone when
    there is no start time (an all-day event)."""
    if starts_at is None:
        return f"{HARI[day.weekday()]}, {format_date_id(day)}"
    zone = ZoneInfo(timezone)
    start = as_utc(starts_at).astimezone(zone)
    text = f"{HARI[start.weekday()]}, {format_date_id(start.date())}, {start:%H.%M}"
    if ends_at is not None:
        text += f"-{as_utc(ends_at).astimezone(zone):%H.%M}"
    return f"{text} {ZONE_NAMES.get(timezone, timezone)}"
