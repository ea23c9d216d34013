"""Events published by the registration service."""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import Field

from shared.contracts.envelope import Event


class ParticipantRegisteredV1(Event):
    """A participant registered for a socialisation event (kegiatan sosialisasi)."""

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
