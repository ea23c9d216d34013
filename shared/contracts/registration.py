"""Events published by the registration service."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from shared.contracts.envelope import Event

CertificatePolicy = Literal["on_registration", "on_check_in"]


class ParticipantRegisteredV1(Event):
    """A participant registered for a socialisation event (kegiatan sosialisasi)."""

    # Published when a place is held: at sign-up, or on promotion from the waiting list.
    # A waitlisted sign-up publishes nothing until promoted.

    type: Literal["registration.participant_registered"] = "registration.participant_registered"
    version: Literal[1] = 1

    registration_id: UUID
    activity_id: UUID = Field(description="The socialisation event (kegiatan) registered for.")
    activity_title: str
    activity_date: date
    activity_location: str
    name: str = Field(description="Participant's name (personal data: never logged).")
    school: str = Field(description="Asal sekolah / kampus / organisasi.")
    phone: str = Field(description="WhatsApp number in E.164, e.g. +6281234567890 (personal data).")
    level: str = Field(description="Jenjang: SMP, SMA, Mahasiswa or Organisasi Masyarakat.")
    desa: str | None = None
    consent: bool = Field(description="Consent to be contacted on WhatsApp.")
    certificate_policy: CertificatePolicy = Field(
        default="on_registration",
        description="When the e-certificate is issued: on registration or on check-in.",
    )
    whatsapp_cohort: str | None = Field(
        default=None, description="The event's WhatsApp cohort (which mentors' group to invite to)."
    )


class ParticipantCheckedInV1(Event):
    """A registered participant was checked in (attended) at the socialisation event."""

    type: Literal["registration.participant_checked_in"] = "registration.participant_checked_in"
    version: Literal[1] = 1

    registration_id: UUID
    activity_id: UUID
    checked_in_at: datetime
    certificate_policy: CertificatePolicy | None = Field(
        default=None, description="The event's certificate policy at check-in."
    )


class ParticipantCancelledV1(Event):
    """A registration was cancelled (by the participant or an operator)."""

    type: Literal["registration.participant_cancelled"] = "registration.participant_cancelled"
    version: Literal[1] = 1

    registration_id: UUID
    activity_id: UUID
    cancelled_at: datetime
    reason: str | None = None
    previous_status: Literal["registered", "waitlisted"] | None = None
    cancelled_by: Literal["participant", "operator"] | None = None
    promoted_registration_id: UUID | None = Field(
        default=None, description="The waitlisted registration that took the freed place."
    )


class ActivityChangedV1(Event):
    """An event's time or place changed; registered participants should be told."""

    type: Literal["registration.activity_changed"] = "registration.activity_changed"
    version: Literal[1] = 1

    activity_id: UUID
    activity_title: str
    activity_date: date
    activity_location: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    previous_date: date
    previous_starts_at: datetime | None = None
    changed_fields: list[str] = Field(description="e.g. ['date', 'starts_at', 'location']")
    registration_ids: list[UUID] = Field(
        description="Registered (not waitlisted or cancelled) participants to notify."
    )
