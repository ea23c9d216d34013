"""HTTP request and response models of the registration service."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.phone import normalize_phone


class ActivityCreate(BaseModel):
    """An operator creates a socialisation event."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    tenant: str | None = Field(default=None, description="Defaults to the operator's kecamatan.")
    title: str = Field(min_length=3, max_length=200)
    date: date
    location: str = Field(min_length=3, max_length=200)
    capacity: int | None = Field(default=None, ge=1, le=100_000)


class ActivityRead(BaseModel):
    """A socialisation event as shown to operators and on the registration page."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    tenant: str
    title: str
    date: date
    location: str
    capacity: int | None
    registration_open: bool
    registration_url: str = ""


class RegistrationCreate(BaseModel):
    """A participant registers: nama, asal sekolah, nomor HP, jenjang, desa, persetujuan."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=2, max_length=120)
    school: str = Field(min_length=2, max_length=160)
    phone: str = Field(min_length=8, max_length=24)
    level: str = Field(min_length=2, max_length=40)
    desa: str | None = Field(default=None, max_length=120)
    consent: bool

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
    event_id: uuid.UUID = Field(validation_alias="activity_id")
    tenant: str
    name: str
    school: str
    phone: str
    level: str
    desa: str | None
    created_at: datetime


class RegistrationAccepted(BaseModel):
    """What the participant sees after registering."""

    registration: RegistrationRead
    already_registered: bool
    message: str


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
