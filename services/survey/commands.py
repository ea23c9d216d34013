"""Operator commands of the survey service (`menjamu survey ...`)."""

from __future__ import annotations

import asyncio

from services.survey import aggregates
from services.survey.settings import Settings
from shared.db import Database
from shared.logging import configure_logging, get_logger

log = get_logger(__name__)


async def rebuild(settings: Settings) -> int:
    """Recomputes the aggregates from the stored responses in one transaction."""
    db = Database(settings)
    try:
        async with db.session() as session:
            counted = await aggregates.rebuild_aggregates(session)
    finally:
        await db.dispose()
    log.info("survey.aggregates_rebuilt", responses=counted)
    return counted


def main(action: str) -> int:
    """Runs one survey command; returns the exit status."""
    settings = Settings()
    configure_logging("survey", fmt=settings.effective_log_format, level=settings.log_level)
    if action == "rebuild":
        counted = asyncio.run(rebuild(settings))
        print(f"aggregates rebuilt from {counted} responses")
        return 0
    return 2
