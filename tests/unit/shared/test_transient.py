"""Which failures are transient (retried, never dead-lettered) and how the retries space out."""

from __future__ import annotations

import sqlite3

import pytest
from pydantic import ValidationError
from redis import exceptions as redis_errors
from sqlalchemy import exc as sa_errors

from shared.settings import ServiceSettings
from shared.transient import DATABASE, REDIS, backoff_delays, transient_dependency


def sqlite_error(message: str) -> sa_errors.OperationalError:
    return sa_errors.OperationalError("INSERT ...", {}, sqlite3.OperationalError(message))


@pytest.mark.parametrize(
    ("error", "dependency"),
    [
        (sqlite_error("database is locked"), DATABASE),
        (sqlite_error("attempt to write a readonly database"), DATABASE),
        (sqlite_error("unable to open database file"), DATABASE),
        (sqlite_error("no such table: outbox"), None),  # a bug, not an outage
        (ConnectionRefusedError(111, "Connect call failed"), DATABASE),
        (redis_errors.ConnectionError("Connection closed by server."), REDIS),
        (redis_errors.TimeoutError("Timeout reading from socket"), REDIS),
        (sa_errors.IntegrityError("INSERT ...", {}, Exception("unique")), None),
        (ValueError("a rule was broken"), None),
        (KeyError("template"), None),
    ],
)
def test_failures_are_told_apart(error: Exception, dependency: str | None) -> None:
    assert transient_dependency(error) == dependency


def test_a_cause_deep_in_the_chain_counts() -> None:
    try:
        try:
            raise redis_errors.ConnectionError("reset")
        except redis_errors.ConnectionError as inner:
            raise RuntimeError("while acking") from inner
    except RuntimeError as outer:
        assert transient_dependency(outer) == REDIS


def test_back_off_grows_with_jitter_up_to_its_cap() -> None:
    delays = backoff_delays(0.1, 2.0)
    first = [next(delays) for _ in range(12)]
    assert 0.05 <= first[0] <= 0.1
    assert 0.4 <= first[3] <= 0.8
    assert all(1.0 <= d <= 2.0 for d in first[6:])
    assert len({round(d, 6) for d in first[6:]}) > 1  # jitter: replicas do not retry in step


def test_processed_marks_must_outlive_the_streams() -> None:
    with pytest.raises(ValidationError, match="retention_processed_days"):
        ServiceSettings(retention_processed_days=7, retention_stream_days=14)


def test_the_consumer_name_is_stable_per_host_and_service() -> None:
    assert ServiceSettings().consumer_name == ServiceSettings().consumer_name
    assert ServiceSettings().consumer_name.endswith("-menjamu")
    assert ServiceSettings(consumer_name="replica-b").consumer_name == "replica-b"
