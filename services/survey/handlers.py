"""Stream reactions of the survey service."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.survey import aggregates, service
from services.survey.settings import AGGREGATE_GATHER_MS, AGGREGATE_READ_BATCH, Settings
from shared.consumer import Reaction
from shared.contracts import IkmUpdatedV1, ParticipantRegisteredV1, ResponseSubmittedV1
from shared.parts import ServiceParts


async def aggregate_on_response_submitted(
    session: AsyncSession, event: ResponseSubmittedV1
) -> list[IkmUpdatedV1]:
    """Adds a submitted response to the per-day IKM aggregates."""
    return await aggregates.aggregate_response(session, event)


async def aggregate_on_responses_submitted(
    session: AsyncSession, events: list[ResponseSubmittedV1]
) -> list[IkmUpdatedV1]:
    """Adds a batch of submitted responses to the aggregates in one statement per table."""
    return await aggregates.aggregate_responses(session, events)


async def record_guide_on_participant_registered(
    session: AsyncSession, event: ParticipantRegisteredV1
) -> None:
    """Remembers a registered participant as a Gen-Z guide whose code the form accepts."""
    await service.record_guide(session, event)


def reactions(parts: ServiceParts[Settings]) -> list[Reaction[Any]]:
    """The service's reactions: IKM aggregates and guide codes (they need none of the parts)."""
    return [
        Reaction(
            group="survey.aggregate",
            event=ResponseSubmittedV1,
            handle=aggregate_on_response_submitted,
            handle_many=aggregate_on_responses_submitted,
            batch=True,
            read_batch=AGGREGATE_READ_BATCH,
            gather_ms=AGGREGATE_GATHER_MS,
        ),
        Reaction(
            group="survey.guides",
            event=ParticipantRegisteredV1,
            handle=record_guide_on_participant_registered,
            batch=True,
        ),
    ]
