"""Dashboard service settings (env prefix DASHBOARD_)."""

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings

DEFAULT_SERVICE_URLS = {
    "registration": "http://127.0.0.1:8001",
    "certificates": "http://127.0.0.1:8002",
    "consultation": "http://127.0.0.1:8003",
    "survey": "http://127.0.0.1:8004",
}


class Settings(ServiceSettings):
    """Settings of the dashboard service."""

    model_config = SettingsConfigDict(env_prefix="DASHBOARD_", extra="ignore")
    service_name: ClassVar[str] = "dashboard"
    default_port: ClassVar[int] = 8005

    service_urls: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_SERVICE_URLS),
        description="Base URLs whose /ready the health strip asks (JSON object).",
    )
    refresh_s: float = Field(default=5.0, gt=0, description="Health strip and fallback refresh.")
    cookie_secure: bool = Field(default=False, description="Mark the login cookie Secure (HTTPS).")
