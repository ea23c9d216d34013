"""Folding responses into per-day sums (pure): the aggregator's batches and the rebuild alike."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from services.survey.ikm import MAX_SCORE, MIN_SCORE
from shared.contracts import ResponseSubmittedV1

DayKey = tuple[str, str, date]  # tenant, unit, local date
GUIDED_PREFIX = "g:"
# Each day's sums are also kept per month (local_date = the 1st, key "m:<key>"), so a report
# over whole months reads about 30 times fewer rows; both kinds travel in the same upsert.
MONTH_PREFIX = "m:"
PROFILE_DIMENSIONS = ("gender", "age_band", "education", "occupation", "service_type")


@dataclass(frozen=True, slots=True)
class Counted:
    """What one response adds to the aggregates (no personal data)."""

    day: DayKey
    scores: Mapping[str, int | None]
    profile: Mapping[str, str]


@dataclass
class Fold:
    """Per-day sums: scores per unsur, response counts, profile value counts."""

    scores: dict[tuple[str, str, date, str], list[int]] = field(default_factory=dict)
    counts: Counter[DayKey] = field(default_factory=Counter)
    profiles: Counter[tuple[str, str, date, str, str]] = field(default_factory=Counter)

    def add(self, item: Counted) -> None:
        """Adds one response; an empty answer is not counted in its unsur's denominator."""
        tenant, unit, day = item.day
        month = day.replace(day=1)
        self.counts[item.day] += 1
        guided = item.profile.get("guided") == "ya"
        scores = self.scores
        for code, score in item.scores.items():
            if score is None:
                continue
            # bool is an int subclass; True must not sneak in as a score of 1.
            if type(score) is not int or not MIN_SCORE <= score <= MAX_SCORE:
                raise ValueError(f"{code}: score {score!r} outside {MIN_SCORE}..{MAX_SCORE}")
            # Guided responses are also summed under "g:<code>": the guided IKM beside the rest.
            for key in (code, GUIDED_PREFIX + code) if guided else (code,):
                for row in ((tenant, unit, day, key), (tenant, unit, month, MONTH_PREFIX + key)):
                    acc = scores.get(row)
                    if acc is None:
                        scores[row] = [score, 1]
                    else:
                        acc[0] += score
                        acc[1] += 1
        for dimension, value in item.profile.items():
            self.profiles[(tenant, unit, day, dimension, value)] += 1
            self.profiles[(tenant, unit, month, MONTH_PREFIX + dimension, value)] += 1


def profile_of(values: Mapping[str, object], guided: bool | None) -> dict[str, str]:
    """The profile dimensions given, plus whether a guide helped."""
    profile = {d: str(values[d]) for d in PROFILE_DIMENSIONS if values.get(d) is not None}
    if guided is not None:
        profile["guided"] = "ya" if guided else "tidak"
    return profile


def counted_event(event: ResponseSubmittedV1) -> Counted:
    """What a ResponseSubmittedV1 adds."""
    return Counted(
        (event.tenant, event.unit, event.local_date),
        event.scores,
        profile_of({d: getattr(event, d) for d in PROFILE_DIMENSIONS}, event.guided),
    )


def fold(items: Iterable[Counted]) -> Fold:
    """Sums responses per key, so each key is written once (an upsert may not touch a row twice)."""
    result = Fold()
    for item in items:
        result.add(item)
    return result


def fold_events(events: Iterable[ResponseSubmittedV1]) -> Fold:
    """Sums a batch of events."""
    return fold(counted_event(e) for e in events)
