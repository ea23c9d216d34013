"""Taking a mentor for a conversation, against an in-memory roster (no database).

The component tests (test_consultation_routing_race, ...) check the same rule on PostgreSQL
with replicas racing; these pin the choice itself: who is taken, who is passed over.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from services.consultation.assignment import choose_mentor
from services.consultation.models import Mentor
from shared.tenants import Tenant

T0 = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)  # Monday 10:00 WIB
TENANT = Tenant(code="kec-a", name="Kecamatan A", timezone="Asia/Jakarta")


class FakeRoster:
    """Mentors in a dict; a place is taken the way the conditional UPDATE does (never over
    capacity). `fill_first` names mentors another replica fills just before our UPDATE."""

    def __init__(self, mentors: Sequence[Mentor], fill_first: Sequence[str] = ()) -> None:
        self.by_id = {str(m.id): m for m in mentors}
        self.fill_first = set(fill_first)
        self.attempts: list[str] = []

    async def mentors(self, tenant: str) -> Sequence[Mentor]:
        return [m for m in self.by_id.values() if m.tenant == tenant]

    async def take_place(self, mentor: Mentor, now: datetime) -> bool:
        self.attempts.append(mentor.name)
        if mentor.name in self.fill_first:
            mentor.open_count = mentor.capacity  # the other replica took the last place
        if mentor.open_count >= mentor.capacity:
            return False
        mentor.open_count += 1
        mentor.last_assigned_at = now
        return True


def mentor(
    name: str,
    *,
    topics: tuple[str, ...] = ("KK",),
    capacity: int = 2,
    open_count: int = 0,
    duty: str = "on",
    tenant: str = "kec-a",
) -> Mentor:
    return Mentor(
        id=uuid.uuid4(),
        tenant=tenant,
        name=name,
        phone="6281200000000",
        topics=json.dumps(list(topics)),
        capacity=capacity,
        duty=duty,
        rota="[]",
        open_count=open_count,
        last_assigned_at=None,
        created_at=T0,
    )


def take(roster: FakeRoster, topic: str = "KK", exclude: str = "") -> Mentor | None:
    return asyncio.run(choose_mentor(roster, TENANT, topic, T0, exclude=exclude))


def test_the_least_loaded_mentor_with_the_topic_gets_the_conversation() -> None:
    busy, free = mentor("Busy", open_count=1), mentor("Free")
    roster = FakeRoster([busy, free])
    taken = take(roster)
    assert taken is free
    assert (free.open_count, free.last_assigned_at) == (1, T0)
    assert busy.open_count == 1


def test_a_mentor_filled_by_another_replica_is_passed_over_for_the_next_best() -> None:
    first, second = mentor("First"), mentor("Second", open_count=1)
    roster = FakeRoster([first, second], fill_first=["First"])
    assert take(roster) is second
    assert roster.attempts == ["First", "Second"]
    assert first.open_count == first.capacity  # nobody over capacity


def test_when_everyone_is_full_nobody_is_taken() -> None:
    full = mentor("Full", open_count=2)
    roster = FakeRoster([full], fill_first=[])
    assert take(roster) is None
    assert roster.attempts == []
    assert full.open_count == 2


def test_off_duty_mentors_and_other_kecamatan_are_never_taken() -> None:
    off = mentor("Off", duty="off")
    elsewhere = mentor("Elsewhere", tenant="kec-b")
    on_other_topic = mentor("Other", topics=("AKTA",))
    roster = FakeRoster([off, elsewhere, on_other_topic])
    # Nobody on duty has KK: any on-duty mentor of the kecamatan takes it.
    assert take(roster) is on_other_topic
    assert off.open_count == elsewhere.open_count == 0


def test_reassignment_never_gives_the_conversation_back_to_the_same_mentor() -> None:
    late, other = mentor("Late"), mentor("Other", open_count=1)
    roster = FakeRoster([late, other])
    assert take(roster, exclude=str(late.id)) is other
    only_late = FakeRoster([mentor("Alone")])
    alone = next(iter(only_late.by_id.values()))
    assert take(only_late, exclude=str(alone.id)) is None
