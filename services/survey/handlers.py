"""Stream reactions of the survey service."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.survey import service
from shared.consumer import Reaction
from shared.contracts import ResponseSubmittedV1


async def aggregate_on_response_submitted(
    session: AsyncSession, event: ResponseSubmittedV1
) -> None:
    """Adds a submitted response to the per-day IKM aggregates."""
    await service.aggregate_response(session, event)


REACTIONS = [
    Reaction(
        group="survey.aggregate",
        event=ResponseSubmittedV1,
        handle=aggregate_on_response_submitted,
        batch=True,
    ),
]
