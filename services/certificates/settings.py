"""Certificates service settings (env prefix CERTIFICATES_)."""

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    """Settings of the certificates service."""

    model_config = SettingsConfigDict(env_prefix="CERTIFICATES_", extra="ignore")
    service_name: ClassVar[str] = "certificates"
    default_port: ClassVar[int] = 8002

    number_code: str = Field(
        default="SERT-MENJAMU",
        min_length=1,
        max_length=40,
        description="Middle part of the printed number: 0001/<number_code>/MOJOSARI/2026.",
    )
