"""An event's time as a participant reads it, in the tenant's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime

from shared.dates import when_id


def test_a_timed_event_reads_in_the_tenants_zone_with_its_day() -> None:
    start = datetime(2026, 12, 11, 23, 30, tzinfo=UTC)  # Saturday 06.30 in Jakarta
    end = datetime(2026, 12, 12, 2, 0, tzinfo=UTC)
    assert (
        when_id(date(2026, 12, 12), start, end, "Asia/Jakarta")
        == "Sabtu, 12 Desember 2026, 06.30-09.00 WIB"
    )
    assert when_id(date(2026, 12, 12), start, None, "Asia/Makassar").endswith("07.30 WITA")


def test_an_all_day_event_reads_as_its_date() -> None:
    assert when_id(date(2026, 12, 7), None, None, "Asia/Jakarta") == "Senin, 7 Desember 2026"
