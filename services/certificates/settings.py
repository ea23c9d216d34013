"""Certificates service settings (env prefix CERTIFICATES_)."""

import os
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, SecretStr
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
    render_workers: int = Field(
        default_factory=lambda: os.cpu_count() or 1,
        ge=1,
        le=64,
        description="Renderer processes of this service process (default: one per core).",
    )
    render_timeout_s: float = Field(
        default=20.0, gt=0, description="A render that takes longer is killed and retried."
    )
    sweep_interval_s: float = Field(
        default=5.0, gt=0, description="How often rows left between the two steps are looked for."
    )
    finish_batch: int = Field(
        default=8,
        ge=1,
        le=100,
        description="Rendered certificates finished (stored key + announcement) in one "
        "transaction at most; rows in hand are the workers' pipes plus this many.",
    )
    finish_linger_ms: float = Field(
        default=250.0,
        ge=0,
        le=1000,
        description="How long a rendered certificate waits for others still rendering to "
        "share its finish transaction (never when nothing else renders).",
    )
    relay_coalesce_ms: float = Field(
        default=100.0,
        ge=0,
        le=1000,
        description="Announcements finished within this many ms share one relay pass.",
    )
    storage: Literal["local", "s3"] = "local"
    storage_dir: Path | None = Field(
        default=None, description="Folder of the PDFs (local storage); default <data>/certificates."
    )
    s3_endpoint_url: str = ""
    s3_region: str = "us-east-1"
    s3_bucket: str = ""
    s3_prefix: str = ""
    s3_access_key_id: str = ""
    s3_secret_access_key: SecretStr | None = None

    @property
    def handler_timeout_s(self) -> float:
        """Timeout of the issuing handler (step one only): always below claim_idle_ms, so the
        claimer never takes a message its handler is still working on."""
        return min(30.0, self.claim_idle_ms / 1000 * 0.8)

    @property
    def render_lease_s(self) -> float:
        """How long a claimed render is hidden from other replicas: longer than a render."""
        return self.render_timeout_s * 2 + 10

    @property
    def effective_storage_dir(self) -> Path:
        """The local PDF folder."""
        return self.storage_dir or self.data_dir / "certificates"
