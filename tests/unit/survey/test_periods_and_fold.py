"""Report periods and the aggregator's batch fold, as an operator reading a report would see."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from services.survey.aggregation import fold_events
from services.survey.periods import parse_period, resolve_period
from services.survey.service import age_band
from shared.contracts import ResponseSubmittedV1
from shared.problem_map import answer_for
from shared.problems import Problem


@pytest.mark.parametrize(
    ("period", "first", "last"),
    [
        ("2025-03", date(2025, 3, 1), date(2025, 3, 31)),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
        ("2025-Q1", date(2025, 1, 1), date(2025, 3, 31)),
        ("2025-Q4", date(2025, 10, 1), date(2025, 12, 31)),
        ("2025-S1", date(2025, 1, 1), date(2025, 6, 30)),
        ("2025-S2", date(2025, 7, 1), date(2025, 12, 31)),
        ("2025", date(2025, 1, 1), date(2025, 12, 31)),
    ],
)
def test_period_shortcuts(period: str, first: date, last: date) -> None:
    assert parse_period(period) == (first, last)


@pytest.mark.parametrize(
    "bad", ["2025-13", "2025-Q5", "2025-S3", "25", "2025-3", "maret", "0000", "9999-12", "1999",
            "2101-Q1", "\u0662\u0660\u0662\u0665"],
)  # fmt: skip
def test_unknown_periods_are_refused_naming_the_field(bad: str) -> None:
    with pytest.raises(Problem) as caught:
        parse_period(bad)
    answer = answer_for(caught.value)  # rules raise named problems; the table gives the status
    assert answer.field == "period" and answer.status == 422


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (date(1, 1, 1), None, "from"),
        (None, date(9999, 12, 31), "to"),
        (date(9999, 12, 5), date(9999, 12, 31), "from"),
        (date(1999, 12, 31), date(2025, 1, 1), "from"),
    ],
)
def test_dates_outside_the_survey_years_are_refused_naming_the_field(
    start: date | None, end: date | None, field: str
) -> None:
    # These once reached date arithmetic past 9999-12-31 or year 0 and answered 500.
    with pytest.raises(Problem) as caught:
        resolve_period(None, start, end, 2026)
    answer = answer_for(caught.value)
    assert answer.field == field and answer.status == 422
    assert "2000" in answer.message and "2100" in answer.message


def test_period_and_from_to_together_are_refused() -> None:
    with pytest.raises(Problem):
        resolve_period("2025", date(2025, 1, 1), None, 2025)
    assert resolve_period(None, None, None, 2026) == (date(2026, 1, 1), date(2026, 12, 31))


@pytest.mark.parametrize(
    ("age", "band"), [(None, None), (15, "<20"), (20, "20-29"), (59, "50-59"), (60, "60+")]
)
def test_age_bands(age: int | None, band: str | None) -> None:
    assert age_band(age) == band


def event(day: date, scores: dict[str, int | None], **kw: object) -> ResponseSubmittedV1:
    return ResponseSubmittedV1(
        tenant="mojosari", source="survey", correlation_id="c", response_id=uuid.uuid4(),
        unit="kantor-kecamatan", submitted_at=datetime(2025, 3, 1, tzinfo=UTC), local_date=day,
        scores=scores, **kw,
    )  # fmt: skip


def test_a_batch_folds_into_one_row_per_key_and_blanks_are_not_answers() -> None:
    day = date(2025, 3, 1)
    fold = fold_events(
        [
            event(day, {"U1": 4, "U2": None}, gender="P", guided=True),
            event(day, {"U1": 2, "U2": 3}, gender="P", guided=False),
            event(date(2025, 3, 2), {"U1": 1}),
        ]
    )
    key = ("mojosari", "kantor-kecamatan", day)
    assert fold.scores[(*key, "U1")] == [6, 2]
    assert fold.scores[(*key, "U2")] == [3, 1]
    assert fold.scores[(*key, "g:U1")] == [4, 1] and (*key, "g:U2") not in fold.scores
    assert fold.counts[key] == 2
    assert fold.profiles[(*key, "gender", "P")] == 2
    assert fold.profiles[(*key, "guided", "ya")] == 1


def test_a_score_outside_1_to_4_fails_the_fold() -> None:
    with pytest.raises(ValueError, match=r"outside 1\.\.4"):
        fold_events([event(date(2025, 3, 1), {"U1": 5})])
