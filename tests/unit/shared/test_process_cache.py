"""The per-process copy: entries expire after their time and the oldest written goes first."""

from __future__ import annotations

import pytest

from shared import process_cache
from shared.process_cache import ProcessCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(process_cache.time, "monotonic", fake)
    return fake


def test_an_entry_is_used_until_its_time_then_read_again(clock: Clock) -> None:
    cache: ProcessCache[str, int] = ProcessCache(ttl_s=30)
    cache.put("mojosari", 1)
    clock.now += 29.9
    assert cache.get("mojosari") == 1
    clock.now += 0.1
    assert cache.get("mojosari") is None
    assert len(cache) == 0, "an expired entry is forgotten"


def test_a_shorter_time_set_later_applies_to_entries_already_kept(clock: Clock) -> None:
    cache: ProcessCache[str, int] = ProcessCache(ttl_s=30)
    cache.put("mojosari", 1)
    cache.ttl_s = 5
    clock.now += 5
    assert cache.get("mojosari") is None


def test_without_a_time_limit_only_the_size_pushes_entries_out(clock: Clock) -> None:
    cache: ProcessCache[int, str] = ProcessCache(size=3)
    for key in (1, 2, 3):
        cache.put(key, f"event {key}")
    clock.now += 10**6
    cache.put(1, "event 1, counted again")  # refreshed: now the newest
    cache.put(4, "event 4")
    assert cache.get(2) is None, "the oldest written went first"
    assert [cache.get(k) for k in (1, 3, 4)] == ["event 1, counted again", "event 3", "event 4"]
    assert len(cache) == 3


def test_clear_forgets_everything() -> None:
    cache: ProcessCache[str, int] = ProcessCache()
    cache.put("a", 1)
    cache.clear()
    assert cache.get("a") is None


def test_a_cache_holds_at_least_one_entry() -> None:
    with pytest.raises(ValueError, match="size"):
        ProcessCache(size=0)
