"""Survey service settings (env prefix SURVEY_)."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    """Settings of the survey service."""

    model_config = SettingsConfigDict(env_prefix="SURVEY_", extra="ignore")
    service_name: ClassVar[str] = "survey"
    default_port: ClassVar[int] = 8004
