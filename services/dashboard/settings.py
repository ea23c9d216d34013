"""Dashboard service settings (env prefix DASHBOARD_)."""

import os
from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings

DEFAULT_PORTS = {"registration": 8001, "certificates": 8002, "consultation": 8003, "survey": 8004}


def default_service_urls() -> dict[str, str]:
    """Where the other services listen on this machine, from their own HOST/PORT settings
    (what `menjamu run` starts them with)."""
    urls = {}
    for name, port in DEFAULT_PORTS.items():
        host = os.environ.get(f"{name.upper()}_HOST", "127.0.0.1").replace("0.0.0.0", "127.0.0.1")
        urls[name] = f"http://{host}:{os.environ.get(f'{name.upper()}_PORT') or port}"
    return urls


class Settings(ServiceSettings):
    """Settings of the dashboard service."""

    model_config = SettingsConfigDict(env_prefix="DASHBOARD_", extra="ignore")
    service_name: ClassVar[str] = "dashboard"
    default_port: ClassVar[int] = 8005

    service_urls: dict[str, str] = Field(
        default_factory=default_service_urls,
        description="Base URLs whose /ready the health strip asks (JSON object).",
    )
    refresh_s: float = Field(default=5.0, gt=0, description="Health strip and fallback refresh.")
    cookie_secure: bool = Field(default=False, description="Mark the login cookie Secure (HTTPS).")
    journal_retention_days: float = Field(
        default=365,
        gt=0,
        description="Journal entries (the per-participant journeys) older than this are deleted "
        "by the hourly retention; the daily counters and the IKM trend stay.",
    )
    login_attempts_per_minute: int = Field(
        default=10, ge=0, description="Login form posts per client address per minute (0 = off)."
    )
