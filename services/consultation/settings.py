"""Consultation service settings (env prefix CONSULTATION_)."""

from typing import ClassVar, Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings

# Adapters this build knows; Cloud API and WAHA join here when their issues land.
WHATSAPP_GATEWAYS: tuple[str, ...] = ("dev",)


class Settings(ServiceSettings):
    """Settings of the consultation service: WhatsApp gateway and outbound queue."""

    model_config = SettingsConfigDict(env_prefix="CONSULTATION_", extra="ignore")
    service_name: ClassVar[str] = "consultation"
    default_port: ClassVar[int] = 8003

    whatsapp_gateway: str = Field(
        default="dev", description="WhatsApp adapter: 'dev' records messages and shows them."
    )
    send_max_attempts: int = Field(default=8, ge=1, le=100)
    send_rate_per_minute: int = Field(default=60, ge=1, le=10_000)
    send_backoff_base_s: float = Field(default=5.0, gt=0)
    send_backoff_max_s: float = Field(default=900.0, gt=0)
    send_timeout_s: float = Field(default=30.0, gt=0)
    send_lease_s: float = Field(
        default=120.0,
        gt=0,
        description="How long a claimed message stays hidden from other senders.",
    )
    dispatch_interval_ms: int = Field(default=1_000, ge=10)
    dispatch_batch: int = Field(default=20, ge=1, le=1000)

    @field_validator("whatsapp_gateway")
    @classmethod
    def _known_gateway(cls, value: str) -> str:
        name = value.strip().lower()
        if name not in WHATSAPP_GATEWAYS:
            raise ValueError(
                f"CONSULTATION_WHATSAPP_GATEWAY={value!r} is not supported; "
                f"choose one of: {', '.join(WHATSAPP_GATEWAYS)}"
            )
        return name

    @model_validator(mode="after")
    def _lease_outlasts_a_send(self) -> Self:
        if self.send_lease_s <= self.send_timeout_s:
            raise ValueError(
                "CONSULTATION_SEND_LEASE_S must be longer than "
                "CONSULTATION_SEND_TIMEOUT_S, or a slow send is sent twice"
            )
        return self
