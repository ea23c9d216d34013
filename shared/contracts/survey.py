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
    gender: str | None = Field(default=None, description="L or P, when given.")
    age_band: str | None = Field(default=None, description="Age band, e.g. '20-29' (never age).")
    education: str | None = Field(default=None, description="SD..S3, when given.")
    occupation: str | None = Field(default=None, description="PNS..Lainnya, when given.")
    guided: bool | None = Field(
        default=None, description="True when a valid Gen-Z guide code came with the response."
    )
    channel: str | None = Field(
        default=None, description="'qr' (public form), 'kertas' (operator), 'impor' (file)."
    )
    guide_registration_id: UUID | None = Field(
        default=None,
        description="The registration of the Gen-Z guide whose code came with the response "
        "(the guide's journey shows it); null when not guided.",
    )


class IkmUpdatedV1(Event):
    """The survey's aggregates took in a batch of responses (a live view refreshes on it)."""

    type: Literal["survey.ikm_updated"] = "survey.ikm_updated"
    version: Literal[1] = 1

    units: list[str] = Field(description="Unit codes whose figures changed.")
    local_dates: list[date] = Field(description="Local days whose figures changed.")
    responses: int = Field(description="How many responses the batch added.")


class TicketOpenedV1(Event):
    """A response's saran or kritik became a complaint ticket (status baru).

    Carries no text and no phone: the dashboard counts open complaints and their age.
    """

    type: Literal["survey.ticket_opened"] = "survey.ticket_opened"
    version: Literal[1] = 1

    ticket_id: UUID
    response_id: UUID
    unit: str = Field(description="Service unit code the saran is about.")
    opened_at: datetime


class TicketRepliedV1(Event):
    """An operator answered a ticket (status ditanggapi, or selesai when `closed`)."""

    type: Literal["survey.ticket_replied"] = "survey.ticket_replied"
    version: Literal[1] = 1

    ticket_id: UUID
    unit: str
    replied_at: datetime
    first_response_s: float = Field(description="Ticket opened to its first reply, seconds.")
    closed: bool = Field(description="True when the reply also closed the ticket.")
    sent_by_whatsapp: bool = Field(description="The reply went to the respondent over WhatsApp.")


class TicketClosedV1(Event):
    """A ticket was closed (status selesai), with or without a reply."""

    type: Literal["survey.ticket_closed"] = "survey.ticket_closed"
    version: Literal[1] = 1

    ticket_id: UUID
    unit: str
    closed_at: datetime
    first_response_s: float | None = Field(
        default=None, description="Opened to first reply, seconds; null when closed unanswered."
    )
