"""HTTP request and response models of the consultation service."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.dates import as_utc
from shared.phone import normalize_phone

UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]


class GroupCreate(BaseModel):
    """An operator adds a mentors' WhatsApp group a mentor created on a phone."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=3, max_length=200)
    invite_link: str = Field(max_length=300, description="https://chat.whatsapp.com/...")
    tenant: str | None = Field(default=None, description="Defaults to the operator's kecamatan.")


class GroupRotate(BaseModel):
    """An operator replaces a group's invite link (after resetting it in WhatsApp)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    invite_link: str = Field(max_length=300, description="https://chat.whatsapp.com/...")


class GroupRead(BaseModel):
    """A WhatsApp group as operators see it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    tenant: str
    name: str
    invite_link: str
    active: bool
    created_at: UtcDatetime
    rotated_at: UtcDatetime | None


class GroupRotated(BaseModel):
    """The group after a rotation and what it means for invitations already sent."""

    group: GroupRead
    message: str


class MessageRead(BaseModel):
    """The outbound WhatsApp message of an invitation."""

    model_config = ConfigDict(from_attributes=True)

    status: str
    attempts: int
    body: str
    provider_message_id: str | None
    last_error: str | None
    next_attempt_at: UtcDatetime
    rule: str = Field(description="free_form, template or document (the 24-hour rule).")
    delivery_status: str | None = Field(description="sent, delivered, read or failed.")
    delivered_at: UtcDatetime | None = None
    read_at: UtcDatetime | None = None


class InvitationRead(BaseModel):
    """One participant's group invitation: where it stands and whether it was clicked."""

    id: uuid.UUID
    registration_id: uuid.UUID
    group_id: uuid.UUID | None
    group_name: str | None
    status: str
    sent_at: UtcDatetime | None
    clicked_at: UtcDatetime | None
    message: MessageRead | None


# --- mentors and the inbox --------------------------------------------------------------------

Topic = Literal["KK", "KTP", "Akta", "KIA", "Pindah", "IKD", "Lainnya"]
_HHMM = r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$"


class MentorCreate(BaseModel):
    """An operator adds a mentor to the roster."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=2, max_length=200)
    phone: str = Field(max_length=30, description="WhatsApp number of the mentor.")
    topics: list[Topic] = Field(min_length=1, max_length=7)
    capacity: int = Field(ge=1, le=100, strict=True, description="Most open conversations.")
    tenant: str | None = Field(default=None, description="Defaults to the operator's kecamatan.")

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        try:
            return normalize_phone(value)
        except ValueError as exc:
            raise ValueError(f"Nomor HP {exc}") from None


class RotaSlot(BaseModel):
    """A weekly duty slot in the tenant's local time; day 0 = Monday (Senin)."""

    model_config = ConfigDict(extra="forbid")

    day: int = Field(ge=0, le=6, strict=True)
    start: str = Field(pattern=_HHMM, description="HH:MM")
    end: str = Field(pattern=_HHMM, description="HH:MM, or 24:00 for midnight")

    @model_validator(mode="after")
    def _ordered(self) -> RotaSlot:
        if self.end != "24:00" and self.end <= self.start:
            raise ValueError("jam selesai (end) harus setelah jam mulai (start)")
        return self


class RotaUpdate(BaseModel):
    """A mentor's whole weekly rota (replaces the previous one)."""

    model_config = ConfigDict(extra="forbid")

    slots: list[RotaSlot] = Field(max_length=100)


class DutyUpdate(BaseModel):
    """On or off duty now (overrides the rota); null returns to the rota."""

    model_config = ConfigDict(extra="forbid")

    on_duty: bool | None = Field(strict=True)


class MentorRead(BaseModel):
    """A mentor as operators see them."""

    id: uuid.UUID
    tenant: str
    name: str
    phone: str
    topics: list[str]
    capacity: int
    open_conversations: int
    duty: str
    on_duty_now: bool
    rota: list[RotaSlot]


class MentorToken(BaseModel):
    """A mentor's inbox token (shown once)."""

    mentor_id: uuid.UUID
    token: str
    expires_in_days: int


class RotaCoverage(BaseModel):
    """Hours of the week no mentor's rota covers (tenant local time)."""

    tenant: str
    uncovered: list[str]


class ConversationRead(BaseModel):
    """A conversation in the inbox list."""

    id: uuid.UUID
    tenant: str
    phone: str
    topic: str
    status: str
    mentor_id: uuid.UUID | None
    waiting_since: UtcDatetime
    window_left_s: float = Field(description="Seconds left in the 24-hour window.")
    repeat_offender: bool
    rating: int | None


class LineRead(BaseModel):
    """One message of a conversation."""

    model_config = ConfigDict(from_attributes=True)

    direction: str
    author: str
    body: str
    created_at: UtcDatetime


class ConversationDetail(ConversationRead):
    """A conversation with its history and the canned answers for its topic."""

    messages: list[LineRead]
    canned_answers: list[str]


class ReplyCreate(BaseModel):
    """A mentor's reply."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: str = Field(min_length=1, max_length=4000)


class ConsultationMetrics(BaseModel):
    """Figures for the dashboard."""

    tenant: str | None
    open: int
    queued: int
    assigned: int
    closed: int
    first_response_s_avg: float | None
    first_response_s_p90: float | None
    resolution_s_avg: float | None
    rating_avg: float | None
    moderated: dict[str, int]
