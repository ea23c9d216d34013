"""Registration service settings (env prefix REGISTRATION_)."""

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    """Settings of the registration service."""

    model_config = SettingsConfigDict(env_prefix="REGISTRATION_", extra="ignore")
    service_name: ClassVar[str] = "registration"
    default_port: ClassVar[int] = 8001
    relay_coalesce_ms: float = Field(
        default=20.0,
        ge=0,
        le=1000,
        description="Sign-ups committed within this many ms share one relay pass.",
    )
