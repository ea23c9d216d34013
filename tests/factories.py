"""Test data: events as their producers publish them, and putting them on a real stream."""

from __future__ import annotations

import random
import uuid
from datetime import date
from typing import Any

from redis.asyncio import Redis

from shared.contracts import Event, ParticipantRegisteredV1
from shared.relay import encode_for_stream


def a_phone() -> str:
    """A number of its own per test, so suites sharing a stream never collide."""
    return f"+62812{random.randint(10_000_000, 99_999_999)}"


def participant_registered(**overrides: Any) -> ParticipantRegisteredV1:
    """A ParticipantRegisteredV1 as the registration service publishes it."""
    values: dict[str, Any] = {
        "tenant": "mojosari",
        "source": "registration",
        "correlation_id": f"corr-{uuid.uuid4()}",
        "registration_id": uuid.uuid4(),
        "activity_id": uuid.uuid4(),
        "activity_title": "Sosialisasi Adminduk untuk Gen-Z",
        "activity_date": date(2026, 12, 5),
        "activity_location": "Pendopo Kecamatan Mojosari",
        "name": "Ayu Lestari",
        "school": "SMAN 1 Mojosari",
        "phone": a_phone(),
        "level": "SMA",
        "consent": True,
    }
    values.update(overrides)
    return ParticipantRegisteredV1(**values)


async def publish(redis: Redis, event: Event, times: int = 1) -> list[str]:
    """Puts an event on its stream the way the outbox relay does (`times` copies)."""
    fields = await encode_for_stream(event.type, event.correlation_id, event.model_dump_json())
    return [(await redis.xadd(event.STREAM, fields)).decode() for _ in range(times)]
