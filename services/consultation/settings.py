"""Consultation service settings (env prefix CONSULTATION_)."""

from typing import ClassVar, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings

WHATSAPP_GATEWAYS: tuple[str, ...] = ("dev", "cloud", "waha")
_CLOUD_REQUIRED = ("cloud_phone_number_id", "cloud_access_token", "cloud_app_secret")


class Settings(ServiceSettings):
    """Settings of the consultation service: WhatsApp gateway, outbound queue, mentoring."""

    model_config = SettingsConfigDict(env_prefix="CONSULTATION_", extra="ignore")
    service_name: ClassVar[str] = "consultation"
    default_port: ClassVar[int] = 8003

    whatsapp_gateway: str = Field(
        default="dev",
        description="WhatsApp adapter: 'cloud' (Meta Cloud API), 'waha', or 'dev' (records).",
    )
    cloud_api_url: str = Field(default="https://graph.facebook.com/v21.0")
    cloud_phone_number_id: str = ""
    cloud_access_token: SecretStr = SecretStr("")
    cloud_app_secret: SecretStr = SecretStr("")
    cloud_verify_token: SecretStr = SecretStr("")
    waha_url: str = Field(default="http://127.0.0.1:3000")
    waha_session: str = "default"
    waha_api_key: SecretStr = SecretStr("")
    waha_webhook_secret: SecretStr = SecretStr("")

    send_max_attempts: int = Field(default=8, ge=1, le=100)
    send_rate_per_minute: int = Field(default=60, ge=1, le=10_000)
    new_recipients_per_hour: int = Field(
        default=200, ge=1, description="Sends to numbers never contacted before, per hour."
    )
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
    sla_minutes: float = Field(
        default=15.0, gt=0, description="Minutes a mentor has to reply before reassignment."
    )
    sweep_interval_s: float = Field(default=15.0, gt=0)
    inbound_batch: int = Field(
        default=20,
        ge=1,
        le=500,
        description="Inbound messages handled in one transaction at most (a burst is batched).",
    )

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

    @model_validator(mode="after")
    def _production_gateway(self) -> Self:
        if self.environment == "production" and self.whatsapp_gateway == "dev":
            raise ValueError(
                "CONSULTATION_WHATSAPP_GATEWAY=dev is refused when MENJAMU_ENV=production: the "
                "development gateway sends nothing and its /dev/whatsapp page is public. "
                "Choose 'cloud' (Meta WhatsApp Cloud API) or 'waha'."
            )
        if self.whatsapp_gateway == "cloud":
            missing = [n for n in _CLOUD_REQUIRED if not _filled(getattr(self, n))]
            if missing:
                names = ", ".join(f"CONSULTATION_{n.upper()}" for n in missing)
                raise ValueError(f"CONSULTATION_WHATSAPP_GATEWAY=cloud needs {names}")
        if self.whatsapp_gateway == "waha" and not _filled(self.waha_webhook_secret):
            raise ValueError(
                "CONSULTATION_WHATSAPP_GATEWAY=waha needs CONSULTATION_WAHA_WEBHOOK_SECRET "
                "(the HMAC key set in WAHA's webhook configuration)"
            )
        return self


def _filled(value: str | SecretStr) -> bool:
    text = value.get_secret_value() if isinstance(value, SecretStr) else value
    return bool(text.strip())
