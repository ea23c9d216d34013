"""The 24-hour customer-service window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.consultation.outbound import window_left_s, window_open

T0 = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)


def test_the_window_is_open_for_24_hours_after_the_last_inbound_message() -> None:
    assert window_open(T0, T0 + timedelta(hours=23, minutes=59))
    assert not window_open(T0, T0 + timedelta(hours=24))
    assert not window_open(None, T0)


def test_time_left_counts_down_to_zero() -> None:
    assert window_left_s(T0, T0 + timedelta(hours=23)) == 3600
    assert window_left_s(T0, T0 + timedelta(hours=30)) == 0
    assert window_left_s(T0.replace(tzinfo=None), T0) == 24 * 3600  # SQLite gives naive UTC
