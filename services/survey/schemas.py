"""HTTP request and response models of the survey service."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

from services.survey.periods import FIRST_YEAR, LAST_YEAR
from shared.phone import normalize_phone

GENDERS = ("L", "P")
EDUCATIONS = ("SD", "SMP", "SMA", "D3", "S1", "S2", "S3")
FUTURE_TOLERANCE = timedelta(hours=1)  # a slightly fast clock on the operator's side
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
    """A citizen's survey answers from the QR-code form; the profile fields are optional.

    Types are strict: "5" is not an age and "yes" is not a consent.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    scores: Scores
    service_type: StrictStr | None = Field(default=None, max_length=160)
    gender: StrictStr | None = None
    age: StrictInt | None = Field(default=None, ge=10, le=120)
    education: StrictStr | None = None
    occupation: StrictStr | None = None
    suggestion: StrictStr | None = Field(default=None, max_length=2000)
    name: StrictStr | None = Field(default=None, max_length=120)
    phone: StrictStr | None = Field(default=None, max_length=24)
    phone_consent: StrictBool = False
    guide_code: StrictStr | None = Field(default=None, max_length=64)
    form_token: StrictStr | None = Field(
        default=None, min_length=16, max_length=64,
        description="The form page's per-load token (hidden field): resubmissions of one form "
        "load count once; another load counts again.",
    )  # fmt: skip

    @field_validator(
        "service_type",
        "gender",
        "education",
        "occupation",
        "suggestion",
        "name",
        "phone",
        "age",
        "guide_code",
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


class PaperResponseCreate(ResponseCreate):
    """A paper form typed in by an operator: also when it was filled (its local date counts)."""

    submitted_at: datetime | None = None

    @field_validator("submitted_at", mode="before")
    @classmethod
    def _with_offset(cls, value: Any) -> Any:
        # Strict: an ISO 8601 text with its offset, so the local date is never guessed.
        if value is None:
            return None
        if not isinstance(value, str):
            raise ValueError("harus berupa teks ISO 8601 dengan zona waktu.")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(
                "harus berupa waktu ISO 8601 dengan zona waktu, contoh 2025-03-10T09:30:00+07:00."
            ) from None
        if parsed.tzinfo is None:
            raise ValueError("harus menyebut zona waktunya, contoh 2025-03-10T09:30:00+07:00.")
        if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
            raise ValueError(f"tahunnya harus {FIRST_YEAR} sampai {LAST_YEAR}.")
        if parsed - datetime.now(UTC) > FUTURE_TOLERANCE:
            raise ValueError("tidak boleh sesudah saat ini: formulir kertas sudah diisi.")
        return parsed


class ResponseAccepted(BaseModel):
    """What the citizen sees after submitting."""

    id: uuid.UUID
    message: str
    next_form_token: str | None = Field(
        default=None, description="With a form_token: the token of the form's next load."
    )


class UnitRead(BaseModel):
    """A service unit as listed for the survey form."""

    tenant: str
    code: str
    name: str
    form_url: str
