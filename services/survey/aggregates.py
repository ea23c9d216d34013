"""The aggregator's rules: a batch of responses into the per-day sums, and the rebuild."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.survey import repository
from services.survey.aggregation import Counted, Fold, fold_events, profile_of
from services.survey.models import Response
from services.survey.service import age_band
from shared.contracts import IkmUpdatedV1, ResponseSubmittedV1

AGGREGATE_GROUP = "survey.aggregate"


def counted_response(response: Response) -> Counted:
    """What a stored response adds to the aggregates: the same as its event."""
    values = {
        "gender": response.gender, "age_band": age_band(response.age),
        "education": response.education, "occupation": response.occupation,
        "service_type": response.service_type,
    }  # fmt: skip
    return Counted(
        (response.tenant, response.unit, response.local_date),
        response.scores,
        profile_of(values, response.guide_code is not None),
    )


async def rebuild_aggregates(session: AsyncSession) -> int:
    """Recomputes every aggregate from the stored responses the aggregator has handled.

    Runs in the caller's one transaction with the aggregates locked, so the aggregator waits
    and then adds only the responses it had not handled yet: the numbers stay identical.
    """
    await repository.lock_and_clear_aggregates(session)
    handled = await repository.processed_event_ids(session, AGGREGATE_GROUP)
    result = Fold()
    async for response in repository.stream_responses(session):
        if str(response.id) in handled:
            result.add(counted_response(response))
    await write_fold(session, result)
    return sum(result.counts.values())


async def write_fold(session: AsyncSession, result: Fold) -> None:
    """Upserts a fold: one statement per table (in chunks for a rebuild's size)."""
    await repository.add_to_aggregates(session, result.scores)
    await repository.add_to_daily_responses(session, result.counts)
    await repository.add_to_profile_counts(session, result.profiles)


async def aggregate_response(
    session: AsyncSession, event: ResponseSubmittedV1
) -> list[IkmUpdatedV1]:
    """Adds one submitted response to the per-day aggregates (the caller dedupes by event_id)."""
    return await aggregate_responses(session, [event])


async def aggregate_responses(
    session: AsyncSession, events: list[ResponseSubmittedV1]
) -> list[IkmUpdatedV1]:
    """Adds a batch of responses to the per-day aggregates: one upsert per table per batch.

    Returns one IkmUpdatedV1 per tenant of the batch, so live views refresh once per batch.
    """
    # tally raises ValueError on a score outside 1..4: the batch fails and the claimer retries
    # message by message, so only the bad one ends in the dead-letter stream.
    result = fold_events(events)
    await write_fold(session, result)
    return updated_events(result, events)


def updated_events(result: Fold, events: list[ResponseSubmittedV1]) -> list[IkmUpdatedV1]:
    """What changed, per tenant: units, days and the number of responses added."""
    by_tenant: dict[str, list[tuple[str, date]]] = {}
    for tenant, unit, day in result.counts:
        by_tenant.setdefault(tenant, []).append((unit, day))
    first = events[0]
    return [
        IkmUpdatedV1(
            tenant=tenant, source="survey", correlation_id=first.correlation_id,
            causation_id=str(first.event_id), units=sorted({u for u, _ in keys}),
            local_dates=sorted({d for _, d in keys}),
            responses=sum(n for (t, _u, _d), n in result.counts.items() if t == tenant),
        )
        for tenant, keys in sorted(by_tenant.items())
    ]  # fmt: skip
