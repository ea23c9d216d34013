"""Survey service settings (env prefix SURVEY_)."""

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings

# The aggregator's work per event is a few additions: large reads amortise the round trips
# (one XREADGROUP, one transaction, three upserts and one XACK per batch).
AGGREGATE_READ_BATCH = 1000
# After a small read the aggregator waits this long before reading again: at 100 responses a
# second a batch per wake-up was a transaction, an IkmUpdatedV1 and a relay pass every few
# responses; gathered, the report shows a response at most this much later.
AGGREGATE_GATHER_MS = 200


class Settings(ServiceSettings):
    """Settings of the survey service."""

    model_config = SettingsConfigDict(env_prefix="SURVEY_", extra="ignore")
    service_name: ClassVar[str] = "survey"
    default_port: ClassVar[int] = 8004

    duplicate_window_s: int = Field(default=600, ge=0, le=86_400)
