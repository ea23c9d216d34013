"""Events published by the survey service."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from shared.contracts.envelope import Event


class ResponseSubmittedV1(Event):
    """A citizen submitted a satisfaction-survey (SKM) response; carries no personal data."""

    type: Literal["survey.response_submitted"] = "survey.response_submitted"
    version: Literal[1] = 1

    response_id: UUID
    unit: str = Field(description="Service unit code, e.g. 'kantor-kecamatan'.")
    submitted_at: datetime
    local_date: date = Field(description="Date of submission in the tenant's time zone (WIB).")
    scores: dict[str, int | None] = Field(
        description="Score 1..4 per unsur code (U1..U9); null = left empty."
    )
    service_type: str | None = Field(default=None, description="Jenis layanan yang diterima.")
