"""HTTP request and response models of the consultation service."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from shared.dates import as_utc

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
