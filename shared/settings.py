"""Settings every service shares; each service subclasses with its own env prefix."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import ClassVar, Literal, Self

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.redis_conn import RedisTarget, parse_redis_url

PROJECT_ROOT = Path(__file__).resolve().parents[1]


class ServiceSettings(BaseSettings):
    """Base settings: global names (REDIS_URL, DATABASE_URL, MENJAMU_*) plus per-service ones.

    Fields without an explicit alias take the service's prefix, e.g. CERTIFICATES_PORT.
    """

    model_config = SettingsConfigDict(env_prefix="MENJAMU_", extra="ignore", validate_by_name=True)

    service_name: ClassVar[str] = "menjamu"
    default_port: ClassVar[int] = 8000

    environment: Literal["development", "production"] = Field(
        default="development", validation_alias=AliasChoices("MENJAMU_ENV")
    )
    log_format: Literal["console", "json"] | None = Field(
        default=None, validation_alias=AliasChoices("MENJAMU_LOG_FORMAT")
    )
    log_level: str = Field(default="INFO", validation_alias=AliasChoices("MENJAMU_LOG_LEVEL"))
    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0",
        validation_alias=AliasChoices("REDIS_URL", "MENJAMU_REDIS_URL"),
    )
    redis_sentinels: str = Field(default="", validation_alias=AliasChoices("REDIS_SENTINELS"))
    redis_sentinel_master: str = Field(
        default="", validation_alias=AliasChoices("REDIS_SENTINEL_MASTER")
    )
    redis_min_replicas: int = Field(
        default=0, ge=0, validation_alias=AliasChoices("MENJAMU_REDIS_MIN_REPLICAS")
    )
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "MENJAMU_DATABASE_URL")
    )
    db_schema_prefix: str = Field(
        default="", validation_alias=AliasChoices("MENJAMU_DB_SCHEMA_PREFIX")
    )
    data_dir: Path = Field(
        default=PROJECT_ROOT / "data", validation_alias=AliasChoices("MENJAMU_DATA_DIR")
    )
    admin_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("MENJAMU_ADMIN_TOKEN")
    )
    tenants_dir: Path = Field(
        default=PROJECT_ROOT / "deploy" / "tenants",
        validation_alias=AliasChoices("MENJAMU_TENANTS_DIR"),
    )
    default_tenant: str = Field(
        default="mojosari", validation_alias=AliasChoices("MENJAMU_DEFAULT_TENANT")
    )
    max_body_bytes: int = Field(
        default=64 * 1024, ge=1024, validation_alias=AliasChoices("MENJAMU_MAX_BODY_BYTES")
    )
    max_upload_bytes: int = Field(
        default=6 * 1024 * 1024, ge=1024, validation_alias=AliasChoices("MENJAMU_MAX_UPLOAD_BYTES")
    )
    rate_limit_per_address: int = Field(
        default=60, ge=0, validation_alias=AliasChoices("MENJAMU_RATE_LIMIT_PER_ADDRESS")
    )
    rate_limit_window_s: int = Field(
        default=60, ge=1, validation_alias=AliasChoices("MENJAMU_RATE_LIMIT_WINDOW_S")
    )
    rate_limit_per_phone: int = Field(
        default=10, ge=0, validation_alias=AliasChoices("MENJAMU_RATE_LIMIT_PER_PHONE")
    )
    rate_limit_phone_window_s: int = Field(
        default=3600, ge=1, validation_alias=AliasChoices("MENJAMU_RATE_LIMIT_PHONE_WINDOW_S")
    )
    metrics_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("MENJAMU_METRICS_TOKEN")
    )
    log_dir: Path | None = Field(default=None, validation_alias=AliasChoices("MENJAMU_LOG_DIR"))
    host: str = "127.0.0.1"
    port: int = 0
    public_url: str = ""

    # Stable per replica (default: host name + service), so a restarted replica finds its own
    # pending entries; two replicas on one host must set different names.
    consumer_name: str = ""
    read_batch: int = Field(default=10, ge=1, le=1000)
    # Reactions with batch=True (small effects such as aggregates) read this many per transaction.
    batch_read_batch: int = Field(default=200, ge=1, le=5000)
    # Messages of one read of a single-event reaction handled at once, each in its own
    # transaction (same ordering key: one after another). Unset: 4 on PostgreSQL, 1 on SQLite.
    handler_concurrency: int | None = Field(default=None, ge=1, le=100)
    max_deliveries: int = Field(default=5, ge=1)
    claim_idle_ms: int = Field(default=60_000, ge=100)
    poll_ms: int = Field(default=1_000, ge=10)
    stream_maxlen: int = Field(
        default=1_000_000, ge=1000, validation_alias=AliasChoices("MENJAMU_STREAM_MAXLEN")
    )
    supervise_interval_s: float = Field(default=5.0, gt=0)
    # How long a stopping service waits for its consumers' in-flight handlers.
    stop_timeout_s: float = Field(default=15.0, gt=0)
    relay_batch: int = Field(default=500, ge=1)
    relay_interval_ms: int = Field(default=500, ge=10)
    relay_coalesce_ms: float = Field(default=2.0, ge=0, le=1000)
    relay_max_attempts: int = Field(default=5, ge=1)
    # "auto": WAITAOF before marking rows published when the server has it (Redis/Valkey >= 7.2
    # with AOF on), else mark on XADD; "waitaof" insists; "none" marks on XADD.
    relay_durability: Literal["auto", "waitaof", "none"] = "auto"
    retention_outbox_days: float = Field(default=7, gt=0)
    retention_processed_days: float = Field(default=30, gt=0)
    retention_stream_days: float = Field(default=14, gt=0)
    retention_consumer_idle_days: float = Field(default=7, gt=0)
    retention_interval_s: float = Field(default=3600, gt=0)
    retry_base_ms: int = Field(default=200, ge=1)
    retry_max_ms: int = Field(default=30_000, ge=1)
    ready_timeout_s: float = Field(default=2.0, gt=0, le=2.0)
    # SQLite: how long a write waits for another connection's lock before it fails (and the
    # consumer retries it as a transient failure). Below every handler deadline (certificates:
    # 30 s), so a lock is an outage and never a handler timeout counted as a failed delivery.
    sqlite_busy_timeout_ms: int = Field(default=10_000, ge=0)

    @model_validator(mode="after")
    def _stable_consumer_name(self) -> Self:
        if not self.consumer_name:
            self.consumer_name = f"{socket.gethostname()}-{self.service_name}"
        if self.retention_processed_days <= self.retention_stream_days:
            # A mark deleted while its entry is still on the stream lets a redelivery repeat it.
            raise ValueError("retention_processed_days must be longer than retention_stream_days")
        if self.retry_max_ms < self.retry_base_ms:
            raise ValueError("retry_max_ms must not be below retry_base_ms")
        return self

    @model_validator(mode="after")
    def _production_needs_secrets(self) -> Self:
        if self.environment == "production" and self.admin_token is None:
            raise ValueError("MENJAMU_ADMIN_TOKEN must be set when MENJAMU_ENV=production")
        self.redis_target  # noqa: B018 (a malformed REDIS_URL fails at start, naming itself)
        return self

    @property
    def redis_target(self) -> RedisTarget:
        """Where Redis is: REDIS_URL, or the sentinels' current master."""
        return parse_redis_url(self.redis_url, self.redis_sentinels, self.redis_sentinel_master)

    @property
    def schema_name(self) -> str:
        """PostgreSQL schema of this service (prefix + service name)."""
        return f"{self.db_schema_prefix}{self.service_name}"

    @property
    def effective_database_url(self) -> str:
        """DATABASE_URL when given, else this service's own SQLite file under the data folder."""
        if self.database_url:
            url = self.database_url
            if url.startswith("postgresql://") or url.startswith("postgres://"):
                url = "postgresql+asyncpg://" + url.split("://", 1)[1]
            return url
        return f"sqlite+aiosqlite:///{self.data_dir / (self.service_name + '.sqlite3')}"

    @property
    def effective_port(self) -> int:
        """The HTTP port: the service's setting or its default."""
        return self.port or self.default_port

    @property
    def effective_public_url(self) -> str:
        """Base URL participants and operators use to reach this service."""
        return (self.public_url or f"http://{self.host}:{self.effective_port}").rstrip("/")

    @property
    def effective_log_format(self) -> str:
        """JSON in production, readable console in development, unless set."""
        if self.log_format:
            return self.log_format
        return "json" if self.environment == "production" else "console"
