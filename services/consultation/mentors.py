"""The mentor roster: topics, capacity, weekly rota and duty (no framework imports)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.consultation import assignment, inbox_repository, repository, routing
from services.consultation.config import TenantConfig
from services.consultation.models import Mentor
from shared.contracts import ConversationAssignedV1
from shared.problems import Problem


class MentorNotFound(Problem):
    """No mentor with this id (or not the caller's kecamatan's)."""


_DAY_NAMES = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")


async def add_mentor(
    session: AsyncSession,
    *,
    tenant: str,
    name: str,
    phone: str,
    topics: Sequence[str],
    capacity: int,
    now: datetime,
) -> Mentor:
    """Adds a mentor on the rota (no slots yet: off duty until a rota or duty is set)."""
    mentor = Mentor(
        id=uuid.uuid4(),
        tenant=tenant,
        name=name,
        phone=phone,
        topics=json.dumps(sorted(set(topics))),
        capacity=capacity,
        duty="rota",
        rota="[]",
        open_count=0,
        created_at=now,
    )
    await repository.add(session, mentor)
    return mentor


async def get_mentor(session: AsyncSession, mentor_id: uuid.UUID) -> Mentor:
    """Gets a mentor or raises MentorNotFound."""
    mentor = await inbox_repository.get_mentor(session, mentor_id)
    if mentor is None:
        raise MentorNotFound()
    return mentor


async def set_rota(
    session: AsyncSession,
    config: TenantConfig,
    mentor: Mentor,
    slots: list[dict[str, Any]],
    *,
    now: datetime,
    sla: timedelta,
) -> list[ConversationAssignedV1]:
    """Replaces a mentor's weekly rota; a mentor now on duty takes from the queue."""
    mentor.rota = json.dumps(slots)
    await session.flush()
    return await assignment.drain_queue(session, config, now, sla)


async def set_duty(
    session: AsyncSession,
    config: TenantConfig,
    mentor: Mentor,
    on_duty: bool | None,
    *,
    now: datetime,
    sla: timedelta,
) -> list[ConversationAssignedV1]:
    """Puts a mentor on or off duty now (None: back to the rota); drains the queue."""
    mentor.duty = "rota" if on_duty is None else ("on" if on_duty else "off")
    await session.flush()
    return await assignment.drain_queue(session, config, now, sla)


def describe(mentor: Mentor, now: datetime, tz: str) -> dict[str, Any]:
    """A mentor's fields as the API shows them."""
    return {
        "id": mentor.id,
        "tenant": mentor.tenant,
        "name": mentor.name,
        "phone": mentor.phone,
        "topics": json.loads(mentor.topics),
        "capacity": mentor.capacity,
        "open_conversations": mentor.open_count,
        "duty": mentor.duty,
        "on_duty_now": assignment.load_of(mentor, now, tz).on_duty,
        "rota": json.loads(mentor.rota or "[]"),
    }


def uncovered(mentors: Sequence[Mentor]) -> list[str]:
    """The hours of the week no rota covers, e.g. 'Senin 02:00-03:00'."""
    gaps = routing.uncovered_hours([assignment.slots_of(m) for m in mentors])
    return [f"{_DAY_NAMES[day]} {hour:02d}:00-{hour + 1:02d}:00" for day, hour in gaps]
