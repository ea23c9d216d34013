"""Figures for the dashboard: response and resolution times, queue, moderation counts."""

from __future__ import annotations

from statistics import mean, quantiles
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.consultation import inbox_repository
from shared.dates import as_utc


async def figures(session: AsyncSession, tenant: str | None) -> dict[str, Any]:
    """Computes the consultation figures of one tenant (None = all)."""
    counts = await inbox_repository.status_counts(session, tenant)
    timed = await inbox_repository.timed_conversations(session, tenant)
    first, resolution, ratings = [], [], []
    for conv in timed:
        start = as_utc(conv.queued_at or conv.created_at)
        if conv.first_response_at is not None:
            first.append((as_utc(conv.first_response_at) - start).total_seconds())
        if conv.closed_at is not None:
            resolution.append((as_utc(conv.closed_at) - start).total_seconds())
        if conv.rating is not None:
            ratings.append(conv.rating)
    return {
        "tenant": tenant,
        "open": sum(counts.get(s, 0) for s in inbox_repository.OPEN),
        "queued": counts.get("queued", 0),
        "assigned": counts.get("assigned", 0),
        "closed": counts.get("closed", 0),
        "first_response_s_avg": round(mean(first), 1) if first else None,
        "first_response_s_p90": round(_p90(first), 1) if first else None,
        "resolution_s_avg": round(mean(resolution), 1) if resolution else None,
        "rating_avg": round(mean(ratings), 2) if ratings else None,
        "moderated": await inbox_repository.moderation_counts(session, tenant),
    }


def _p90(values: list[float]) -> float:
    return values[0] if len(values) == 1 else quantiles(values, n=10)[-1]
