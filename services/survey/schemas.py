"""HTTP request and response models of the survey service."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.phone import normalize_phone

GENDERS = ("L", "P")
EDUCATIONS = ("SD", "SMP", "SMA", "D3", "S1", "S2", "S3")
OCCUPATIONS = ("PNS", "TNI", "POLRI", "Swasta", "Wirausaha", "Lainnya")


def _blank_to_none(value: Any) -> Any:
    """Treats an empty or whitespace-only text from the form as not given."""
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _one_of(value: str | None, allowed: tuple[str, ...]) -> str | None:
    """Matches a choice case-insensitively and returns its canonical spelling."""
    if value is None:
        return None
    for choice in allowed:
        if value.strip().casefold() == choice.casefold():
            return choice
    raise ValueError(f"harus salah satu dari: {', '.join(allowed)}.")


class Scores(BaseModel):
    """Answers to the nine unsur of Permenpan RB 14/2017: 1..4 each, or null when left empty."""

    model_config = ConfigDict(extra="forbid")

    U1: int | None = None
    U2: int | None = None
    U3: int | None = None
    U4: int | None = None
    U5: int | None = None
    U6: int | None = None
    U7: int | None = None
    U8: int | None = None
    U9: int | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _score(cls, value: Any) -> Any:
        # bool is an int subclass and "4" would be coerced: only real integers are scores.
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 4:
            raise ValueError("harus antara 1 dan 4.")
        return value

    @model_validator(mode="after")
    def _at_least_one(self) -> Scores:
        if all(v is None for v in self.model_dump().values()):
            raise ValueError("belum diisi; jawab minimal satu pertanyaan (U1 sampai U9).")
        return self


class ResponseCreate(BaseModel):
    """A citizen's survey answers from the QR-code form; the profile fields are optional."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    scores: Scores
    service_type: str | None = Field(default=None, max_length=160)
    gender: str | None = None
    age: int | None = Field(default=None, ge=10, le=120)
    education: str | None = None
    occupation: str | None = None
    suggestion: str | None = Field(default=None, max_length=2000)
    name: str | None = Field(default=None, max_length=120)
    phone: str | None = Field(default=None, max_length=24)

    @field_validator(
        "service_type",
        "gender",
        "education",
        "occupation",
        "suggestion",
        "name",
        "phone",
        "age",
        mode="before",
    )
    @classmethod
    def _blank(cls, value: Any) -> Any:
        return _blank_to_none(value)

    @field_validator("gender")
    @classmethod
    def _gender(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if value.upper() not in GENDERS:
            raise ValueError("harus L (laki-laki) atau P (perempuan).")
        return value.upper()

    @field_validator("education")
    @classmethod
    def _education(cls, value: str | None) -> str | None:
        return _one_of(value, EDUCATIONS)

    @field_validator("occupation")
    @classmethod
    def _occupation(cls, value: str | None) -> str | None:
        return _one_of(value, OCCUPATIONS)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return None if value is None else normalize_phone(value)


class ResponseAccepted(BaseModel):
    """What the citizen sees after submitting."""

    id: uuid.UUID
    message: str


class UnitRead(BaseModel):
    """A service unit as listed for the survey form."""

    tenant: str
    code: str
    name: str
    form_url: str
