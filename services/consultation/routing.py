"""Routing rules (pure): who is on duty now, and which mentors may take a conversation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

_NEVER = datetime.min.replace(tzinfo=ZoneInfo("UTC"))


@dataclass(frozen=True)
class Slot:
    """A weekly duty slot in the tenant's local time (day 0 = Monday; end may be 24:00)."""

    day: int
    start: time
    end: time | None  # None = until midnight

    def covers(self, local: datetime) -> bool:
        """Tells whether a local time falls inside the slot."""
        if local.weekday() != self.day:
            return False
        now = local.time()
        return self.start <= now and (self.end is None or now < self.end)


@dataclass(frozen=True)
class MentorLoad:
    """What routing needs to know of a mentor."""

    id: str
    topics: frozenset[str]
    capacity: int
    open_count: int
    on_duty: bool
    last_assigned_at: datetime | None


def on_duty(duty: str, slots: Sequence[Slot], now: datetime, tz: str) -> bool:
    """Duty 'on'/'off' overrides the rota; 'rota' follows the weekly slots."""
    if duty in ("on", "off"):
        return duty == "on"
    local = now.astimezone(ZoneInfo(tz))
    return any(slot.covers(local) for slot in slots)


def candidates(
    mentors: Sequence[MentorLoad], topic: str, exclude: frozenset[str] = frozenset()
) -> list[MentorLoad]:
    """On-duty mentors with room, best first: fewest open, then longest since the last one.

    Mentors with the topic come first; when nobody on duty has the topic at all, any on-duty
    mentor may take it (a gap in topic coverage must not strand a citizen).
    """
    duty = [m for m in mentors if m.on_duty and m.id not in exclude]
    with_topic = [m for m in duty if topic in m.topics]
    pool = with_topic or duty
    free = [m for m in pool if m.open_count < m.capacity]
    return sorted(free, key=lambda m: (m.open_count, m.last_assigned_at or _NEVER, m.id))


def uncovered_hours(slots_by_mentor: Sequence[Sequence[Slot]]) -> list[tuple[int, int]]:
    """The (day, hour) pairs of the week that no mentor's rota covers."""
    gaps = []
    for day in range(7):
        for hour in range(24):
            probe = datetime(2024, 1, 1 + day, hour, 30, tzinfo=ZoneInfo("UTC"))  # a Monday
            if not any(s.covers(probe) for slots in slots_by_mentor for s in slots):
                gaps.append((day, hour))
    return gaps
