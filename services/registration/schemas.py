"""HTTP request and response models of the registration service."""

from __future__ import annotations

import datetime as dt
import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, field_validator

from shared.phone import normalize_phone
from shared.text import clean_name, clean_text

Policy = Literal["on_registration", "on_check_in"]


def _clean(value: str | None) -> str | None:
    return None if value is None else clean_text(value)


class ActivityCreate(BaseModel):
    """An operator creates a socialisation activity (kegiatan; `/events` in the API).

    Times without an offset are read in the tenant's time zone. The first API took `date` and
    `location`; both still work (`date` alone = an all-day activity, `location` = `venue`).
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    tenant: str | None = Field(default=None, description="Defaults to the operator's kecamatan.")
    title: str = Field(min_length=3, max_length=200)
    date: dt.date | None = None
    location: str | None = Field(default=None, min_length=3, max_length=200)
    venue: str | None = Field(default=None, min_length=3, max_length=200)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    desa: str | None = Field(default=None, max_length=120)
    capacity: StrictInt | None = Field(default=None, ge=1, le=100_000)
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    certificate_policy: Policy = "on_registration"
    whatsapp_cohort: str | None = Field(default=None, max_length=120)

    _texts = field_validator("title", "location", "venue", "desa", "whatsapp_cohort")(_clean)


class ActivityUpdate(BaseModel):
    """An operator edits an activity: only the fields sent change."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str | None = Field(default=None, min_length=3, max_length=200)
    date: dt.date | None = None
    location: str | None = Field(default=None, min_length=3, max_length=200)
    venue: str | None = Field(default=None, min_length=3, max_length=200)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    desa: str | None = Field(default=None, max_length=120)
    capacity: StrictInt | None = Field(default=None, ge=1, le=100_000)
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    certificate_policy: Policy | None = None
    whatsapp_cohort: str | None = Field(default=None, max_length=120)
    registration_open: StrictBool | None = None

    _texts = field_validator("title", "location", "venue", "desa", "whatsapp_cohort")(_clean)


class ActivityRead(BaseModel):
    """A socialisation activity as shown to operators and on the registration page."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    tenant: str
    title: str
    date: dt.date
    location: str
    venue: str = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    desa: str | None = None
    capacity: int | None
    registration_open: bool
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    certificate_policy: str = "on_registration"
    whatsapp_cohort: str | None = None
    registered_count: int = 0
    waitlisted_count: int = 0
    registration_url: str = ""


class RegistrationCreate(BaseModel):
    """A participant registers: nama, asal sekolah, nomor HP, jenjang, desa, persetujuan."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=2, max_length=120)
    school: str = Field(min_length=2, max_length=160)
    phone: str = Field(min_length=8, max_length=24)
    level: str = Field(min_length=2, max_length=40)
    desa: str | None = Field(default=None, max_length=120)
    consent: StrictBool

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return clean_name(value)

    @field_validator("school")
    @classmethod
    def _school(cls, value: str) -> str:
        return clean_name(value)

    _texts = field_validator("level", "desa")(_clean)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        return normalize_phone(value)

    @field_validator("consent")
    @classmethod
    def _consent(cls, value: bool) -> bool:
        if not value:
            raise ValueError(
                "wajib disetujui agar sertifikat dan undangan grup WhatsApp dapat dikirim."
            )
        return value


class RegistrationRead(BaseModel):
    """A stored registration (phone masked unless an operator asks)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    event_id: uuid.UUID = Field(validation_alias="activity_id")  # the public name (v1)
    tenant: str
    code: str
    status: str
    waitlist_position: int | None
    name: str
    school: str
    phone: str
    level: str
    desa: str | None
    consent_version: str
    created_at: datetime
    checked_in_at: datetime | None = None
    cancelled_at: datetime | None = None
    certificate_issued_at: datetime | None = None


class RegistrationAccepted(BaseModel):
    """What the participant sees after registering; a repeat gets only the notice."""

    registration: RegistrationRead | None
    already_registered: bool
    confirmation_url: str | None
    message: str


class CheckInCreate(BaseModel):
    """An operator checks a participant in by the code on their confirmation."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(min_length=4, max_length=20)


class CheckInResult(BaseModel):
    """The door's answer: checked in now, or already earlier."""

    already_checked_in: bool
    message: str
    registration: RegistrationRead


class CancelCreate(BaseModel):
    """An operator cancels a registration."""

    model_config = ConfigDict(extra="forbid")

    registration_id: uuid.UUID


class CancelResult(BaseModel):
    """What a cancellation did."""

    status: str
    message: str
    promoted_registration_id: uuid.UUID | None = None


class TokenCreate(BaseModel):
    """An admin issues a token for an operator or a mentor of one kecamatan."""

    model_config = ConfigDict(extra="forbid")

    role: str = Field(pattern="^(admin|operator|mentor)$")
    tenant: str = Field(min_length=1, max_length=64)
    subject: str = Field(min_length=1, max_length=120, description="Who holds it (for audit).")
    ttl_days: int | None = Field(default=365, ge=1, le=3650)


class TokenRead(BaseModel):
    """A newly issued token (shown once)."""

    token: str
    role: str
    tenant: str
    subject: str
