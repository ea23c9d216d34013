"""HTTP request and response models of the certificates service."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class CertificateRead(BaseModel):
    """A certificate as operators list it (no PDF, no personal data beyond the ids)."""

    id: uuid.UUID
    tenant: str
    number: str
    registration_id: uuid.UUID
    activity_id: uuid.UUID | None = None
    status: Literal["valid", "revoked"]
    issued_at: datetime
    reissued_at: datetime | None = None
    rendering: bool = Field(description="A new PDF is being made (first issue or re-issue).")
    revoked_at: datetime | None = None
    revoke_reason: str | None = None
    download_url: str
    verify_url: str


class CertificateVerification(BaseModel):
    """What anyone holding the certificate's id may check about it (machine-readable)."""

    id: uuid.UUID
    number: str
    status: Literal["valid", "revoked"]
    valid: bool
    participant_name: str
    school: str
    activity_title: str
    activity_date: date
    activity_location: str
    issuer: str = Field(description="The issuing kecamatan, e.g. 'Kecamatan Mojosari'.")
    issued_at: datetime
    reissued_at: datetime | None = None
    revoked_at: datetime | None = None
    revoke_reason: str | None = None
    verify_url: str


class RevokeRequest(BaseModel):
    """An operator revokes a certificate and says why."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=3, max_length=500)


class ReissueRequest(BaseModel):
    """An operator asks for new PDFs; optionally with the event's corrected title."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    activity_title: str | None = Field(default=None, min_length=3, max_length=300)


class ReissueProgress(BaseModel):
    """How far the PDFs of an event (or of one certificate) are."""

    tenant: str
    activity_id: uuid.UUID | None = None
    total: int
    waiting: int = Field(description="Certificates whose new PDF is not made yet.")
    done: int
    revoked: int
