"""Routing: fewest open conversations, round-robin among equals, never over capacity."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from services.consultation import routing
from services.consultation.routing import MentorLoad, Slot

T0 = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)  # Monday 10:00 WIB


def mentor(
    id: str,
    *,
    topics: tuple[str, ...] = ("KK",),
    capacity: int = 3,
    open_count: int = 0,
    on_duty: bool = True,
    last: datetime | None = None,
) -> MentorLoad:
    return MentorLoad(id, frozenset(topics), capacity, open_count, on_duty, last)


def test_the_mentor_with_fewest_open_conversations_comes_first() -> None:
    ranked = routing.candidates([mentor("a", open_count=2), mentor("b", open_count=1)], "KK")
    assert [m.id for m in ranked] == ["b", "a"]


def test_equals_take_turns_longest_since_their_last_assignment_first() -> None:
    mentors = [mentor("a", last=T0), mentor("b", last=T0 - timedelta(minutes=5)), mentor("c")]
    assert [m.id for m in routing.candidates(mentors, "KK")] == ["c", "b", "a"]


def test_a_full_or_off_duty_mentor_is_never_chosen() -> None:
    mentors = [mentor("full", capacity=2, open_count=2), mentor("off", on_duty=False)]
    assert routing.candidates(mentors, "KK") == []


def test_mentors_of_the_topic_come_before_others_and_others_cover_a_gap() -> None:
    mentors = [mentor("kk", topics=("KK",), open_count=2), mentor("akta", topics=("Akta",))]
    assert [m.id for m in routing.candidates(mentors, "KK")] == ["kk"]
    assert [m.id for m in routing.candidates(mentors, "KIA")] == ["akta", "kk"]


def test_a_topic_mentor_who_is_full_queues_rather_than_handing_to_another_topic() -> None:
    mentors = [
        mentor("kk", topics=("KK",), capacity=1, open_count=1),
        mentor("akta", topics=("Akta",)),
    ]
    assert routing.candidates(mentors, "KK") == []


def test_reassignment_excludes_the_current_mentor() -> None:
    mentors = [mentor("a"), mentor("b", open_count=1)]
    assert [m.id for m in routing.candidates(mentors, "KK", frozenset({"a"}))] == ["b"]


def test_the_rota_is_read_in_the_tenants_time_zone() -> None:
    morning = [Slot(day=0, start=time(8, 0), end=time(16, 0))]  # Monday 08-16 WIB
    assert routing.on_duty("rota", morning, T0, "Asia/Jakarta")  # 10:00 WIB
    assert not routing.on_duty("rota", morning, T0 + timedelta(hours=7), "Asia/Jakarta")
    assert routing.on_duty("on", [], T0, "Asia/Jakarta")
    assert not routing.on_duty("off", morning, T0, "Asia/Jakarta")


def test_a_night_slot_until_midnight_and_coverage_gaps() -> None:
    night = Slot(day=6, start=time(16, 0), end=None)
    assert night.covers(datetime(2026, 12, 13, 23, 59))  # Sunday 23:59
    full_week = [[Slot(day=d, start=time(0, 0), end=None) for d in range(7)]]
    assert routing.uncovered_hours(full_week) == []
    gaps = routing.uncovered_hours([[Slot(day=0, start=time(0, 0), end=time(23, 0))]])
    assert (0, 23) in gaps and (1, 0) in gaps and (0, 22) not in gaps
