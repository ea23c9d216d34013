"""The envelope every event carries, and the rules for building one event from another."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, Self
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field, field_validator


def utcnow() -> datetime:
    """Returns the current time in UTC (aware)."""
    return datetime.now(UTC)


class Event(BaseModel):
    """Base of every event contract: the envelope fields plus the stream naming rule.

    Subclasses pin `type` and `version` with Literal fields; the stream name is derived from both,
    so a breaking change (a new version) always lands on a new stream.
    """

    # Unknown fields from a newer producer are ignored: additive change stays compatible.
    model_config = ConfigDict(frozen=True, extra="ignore")

    TYPE: ClassVar[str]
    VERSION: ClassVar[int]
    STREAM: ClassVar[str]

    event_id: UUID = Field(default_factory=uuid4, description="Idempotency key of this event.")
    type: str
    version: int
    occurred_at: datetime = Field(default_factory=utcnow, description="When it happened (UTC).")
    tenant: str = Field(min_length=1, description="Kecamatan code, e.g. 'mojosari'.")
    source: str = Field(min_length=1, description="The service that published it.")
    correlation_id: str = Field(
        min_length=1, description="Follows one participant or one request across services."
    )
    causation_id: str | None = Field(
        default=None, description="event_id of the event that caused it."
    )

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        fields = cls.model_fields
        type_default = fields["type"].default
        version_default = fields["version"].default
        if isinstance(type_default, str) and isinstance(version_default, int):
            cls.TYPE = type_default
            cls.VERSION = version_default
            cls.STREAM = f"{type_default}.v{version_default}"

    @field_validator("occurred_at")
    @classmethod
    def _must_be_aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("occurred_at must carry a timezone (UTC)")
        return value.astimezone(UTC)

    @classmethod
    def caused_by(cls, cause: Event, *, source: str, **fields: Any) -> Self:
        """Builds an event caused by another: same tenant and correlation, causation = its id."""
        return cls(
            tenant=cause.tenant,
            source=source,
            correlation_id=cause.correlation_id,
            causation_id=str(cause.event_id),
            **fields,
        )

    def log_context(self) -> dict[str, str]:
        """Returns the ids that every log line about this event should carry."""
        return {
            "event_id": str(self.event_id),
            "event_type": self.type,
            "tenant": self.tenant,
            "correlation_id": self.correlation_id,
        }
