"""The capacity rule against an in-memory waiting list (no database): who gets a place, who
waits at which position, who moves up when a place frees, and how far capacity may shrink.

The component tests (tests/component/test_registration_waitlist.py,
tests/security/test_registration_capacity.py) check the same rule over HTTP on SQLite and
PostgreSQL with sign-ups racing; these pin the rule itself.
"""

from __future__ import annotations

import uuid

import pytest

from services.registration.models import Activity, Registration, RegistrationStatus
from services.registration.service import (
    CapacityBelowRegistered,
    check_capacity,
    fill_places,
    release_place,
    take_place,
)
from shared.problem_map import answer_for

REGISTERED = RegistrationStatus.REGISTERED
WAITLISTED = RegistrationStatus.WAITLISTED
CANCELLED = RegistrationStatus.CANCELLED


class FakeWaitingList:
    """Registrations in a list; `move_up` does what repository.move_waitlist_up's UPDATE does."""

    def __init__(self) -> None:
        self.registrations: list[Registration] = []

    def waiting(self, activity_id: uuid.UUID) -> list[Registration]:
        return [
            r for r in self.registrations if r.activity_id == activity_id and r.status == WAITLISTED
        ]

    async def first(self, activity_id: uuid.UUID) -> Registration | None:
        return min(self.waiting(activity_id), key=lambda r: r.waitlist_position or 0, default=None)

    async def move_up(self, activity_id: uuid.UUID, after: int) -> None:
        for registration in self.waiting(activity_id):
            position = registration.waitlist_position
            if position is not None and position > after:
                registration.waitlist_position = position - 1


def activity(capacity: int | None) -> Activity:
    return Activity(
        id=uuid.uuid4(),
        tenant="mojosari",
        capacity=capacity,
        registered_count=0,
        waitlisted_count=0,
    )


def sign_up(places: FakeWaitingList, where: Activity, name: str) -> Registration:
    """What register_participant does with the rule's answer: a registration in that place."""
    status, position = take_place(where)
    registration = Registration(
        id=uuid.uuid4(), activity_id=where.id, name=name, status=status, waitlist_position=position
    )
    places.registrations.append(registration)
    return registration


def standing(places: FakeWaitingList) -> dict[str, tuple[str, int | None]]:
    return {r.name: (r.status, r.waitlist_position) for r in places.registrations}


def counts(where: Activity) -> tuple[int, int]:
    return where.registered_count, where.waitlisted_count


def full_house(capacity: int, waiting: int) -> tuple[FakeWaitingList, Activity]:
    """An activity with every place taken (R1, R2, ...) and W1..Wn waiting in that order."""
    places, where = FakeWaitingList(), activity(capacity)
    for i in range(1, capacity + 1):
        sign_up(places, where, f"R{i}")
    for i in range(1, waiting + 1):
        sign_up(places, where, f"W{i}")
    return places, where


def by_name(places: FakeWaitingList, name: str) -> Registration:
    return next(r for r in places.registrations if r.name == name)


def test_newcomers_are_registered_while_places_remain() -> None:
    places, where = FakeWaitingList(), activity(3)
    taken = [sign_up(places, where, f"R{i}") for i in range(1, 4)]
    assert [(r.status, r.waitlist_position) for r in taken] == [(REGISTERED, None)] * 3
    assert counts(where) == (3, 0)
    unlimited = activity(None)
    assert all(sign_up(places, unlimited, "U").status == REGISTERED for _ in range(50))
    assert counts(unlimited) == (50, 0)


def test_when_full_newcomers_wait_at_positions_one_to_n() -> None:
    places, where = full_house(capacity=2, waiting=0)
    waiting = [sign_up(places, where, f"W{i}") for i in range(1, 5)]
    assert [(r.status, r.waitlist_position) for r in waiting] == [
        (WAITLISTED, 1), (WAITLISTED, 2), (WAITLISTED, 3), (WAITLISTED, 4),
    ]  # fmt: skip
    assert counts(where) == (2, 4)


async def test_a_cancelled_place_goes_to_the_first_waiting_and_the_list_moves_up() -> None:
    places, where = full_house(capacity=2, waiting=3)
    promoted = await release_place(places, where, by_name(places, "R1"))
    assert promoted is by_name(places, "W1")
    assert standing(places) == {
        "R1": (CANCELLED, None), "R2": (REGISTERED, None),
        "W1": (REGISTERED, None), "W2": (WAITLISTED, 1), "W3": (WAITLISTED, 2),
    }  # fmt: skip
    assert counts(where) == (2, 2)
    # The counts stay true: the next newcomer waits behind the two left, not at a stale 4.
    assert (sign_up(places, where, "W4").waitlist_position, counts(where)) == (3, (2, 3))


async def test_a_waiting_cancellation_closes_its_gap_and_promotes_nobody() -> None:
    places, where = full_house(capacity=1, waiting=3)
    assert await release_place(places, where, by_name(places, "W2")) is None
    assert standing(places) == {
        "R1": (REGISTERED, None), "W1": (WAITLISTED, 1), "W2": (CANCELLED, None),
        "W3": (WAITLISTED, 2),
    }  # fmt: skip
    assert counts(where) == (1, 2)


async def test_a_freed_place_with_nobody_waiting_goes_to_the_next_newcomer() -> None:
    places, where = full_house(capacity=2, waiting=0)
    assert await release_place(places, where, by_name(places, "R2")) is None
    assert counts(where) == (1, 0)
    assert sign_up(places, where, "N").status == REGISTERED


def test_capacity_cannot_shrink_below_the_registered_count() -> None:
    _places, where = full_house(capacity=5, waiting=0)
    with pytest.raises(CapacityBelowRegistered) as refused:
        check_capacity(where, 4)
    answer = answer_for(refused.value)
    assert (answer.status, answer.field) == (409, "capacity")
    assert answer.message == "Kuota tidak bisa lebih kecil dari jumlah peserta terdaftar (5)."
    for allowed in (5, 6, None):  # down to the registered count, more, or no limit
        check_capacity(where, allowed)


async def test_a_larger_capacity_takes_the_waiting_in_order() -> None:
    places, where = full_house(capacity=1, waiting=3)
    where.capacity = 3
    promoted = await fill_places(places, where)
    assert [r.name for r in promoted] == ["W1", "W2"]
    assert standing(places)["W3"] == (WAITLISTED, 1)
    assert counts(where) == (3, 1)
    assert await fill_places(places, where) == []  # full again: nobody else moves
