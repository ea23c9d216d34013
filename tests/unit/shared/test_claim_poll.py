"""How often a claimer looks for abandoned entries (XAUTOCLAIM does not block)."""

from __future__ import annotations

from pathlib import Path

from shared.consumer import claim_poll_ms
from shared.settings import ServiceSettings


def _settings(**values: int) -> ServiceSettings:
    return ServiceSettings.model_validate({"data_dir": Path("/tmp/unused"), **values})


def test_a_short_poll_no_longer_makes_the_claimer_poll_every_few_milliseconds() -> None:
    assert claim_poll_ms(_settings(poll_ms=20, claim_idle_ms=60_000)) == 1000


def test_a_claimer_looks_ten_times_per_claim_idle_time_but_never_faster_than_poll_ms() -> None:
    assert claim_poll_ms(_settings(poll_ms=100, claim_idle_ms=2_000)) == 200
    assert claim_poll_ms(_settings(poll_ms=100, claim_idle_ms=1_000)) == 100
    assert claim_poll_ms(_settings(poll_ms=1_000, claim_idle_ms=60_000)) == 1000
    assert claim_poll_ms(_settings(poll_ms=5_000, claim_idle_ms=60_000)) == 5000
