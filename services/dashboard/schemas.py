"""HTTP request and response models of the dashboard."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class JourneyStep(BaseModel):
    """One event of a participant's journey."""

    occurred_at: str
    type: str
    source: str
    event_id: str
    label: str
    facts: dict[str, Any]


class JourneyRead(BaseModel):
    """A registration's journey: every event and effect in time order."""

    registration_id: str
    tenant: str
    correlation_id: str
    phone_masked: str | None
    steps: list[JourneyStep]
    missing: list[str] = Field(description="Expected steps that have not happened yet.")
    dead_letters: list[dict[str, Any]] = Field(
        default_factory=list, description="Messages of this registration a consumer gave up on."
    )


class JourneyList(BaseModel):
    """Journeys found for a phone number."""

    journeys: list[JourneyRead]


class DeadLetterReplay(BaseModel):
    """Which dead letters to put back on their stream."""

    stream: str = Field(min_length=1, max_length=160)
    ids: list[str] = Field(min_length=1, max_length=500)


class ReplayResult(BaseModel):
    """How many dead letters went back to their stream."""

    replayed: int
