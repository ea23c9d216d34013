"""Folding a batch of ResponseSubmittedV1 into per-day sums (pure), one row per key."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from services.survey.ikm import tally
from shared.contracts import ResponseSubmittedV1

DayKey = tuple[str, str, date]  # tenant, unit, local date
GUIDED_PREFIX = "g:"
PROFILE_DIMENSIONS = ("gender", "age_band", "education", "occupation", "service_type")


@dataclass
class Fold:
    """Per-day sums of a batch: scores per unsur, response counts, profile value counts."""

    scores: dict[tuple[str, str, date, str], list[int]] = field(default_factory=dict)
    counts: Counter[DayKey] = field(default_factory=Counter)
    profiles: Counter[tuple[str, str, date, str, str]] = field(default_factory=Counter)


def fold_events(events: list[ResponseSubmittedV1]) -> Fold:
    """Sums a batch per key, so each key is written once (an upsert may not touch a row twice)."""
    fold = Fold()
    for event in events:
        day: DayKey = (event.tenant, event.unit, event.local_date)
        fold.counts[day] += 1
        for code, totals in tally([event.scores]).items():
            # Guided responses are also summed under "g:<code>": the guided IKM beside the rest.
            for key in (code, f"{GUIDED_PREFIX}{code}") if event.guided else (code,):
                if totals.answered:
                    acc = fold.scores.setdefault((*day, key), [0, 0])
                    acc[0] += totals.score_sum
                    acc[1] += totals.answered
        for dimension, value in profile_values(event).items():
            fold.profiles[(*day, dimension, value)] += 1
    return fold


def profile_values(event: ResponseSubmittedV1) -> dict[str, str]:
    """The profile dimensions a response reports, plus whether a guide helped."""
    values = {d: getattr(event, d) for d in PROFILE_DIMENSIONS if getattr(event, d) is not None}
    if event.guided is not None:
        values["guided"] = "ya" if event.guided else "tidak"
    return values
