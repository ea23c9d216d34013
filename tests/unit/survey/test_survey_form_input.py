"""What the survey form accepts and how it reads the citizen's answers."""

import pytest
from pydantic import ValidationError

from services.survey.ikm import PERMENPAN_14_2017_UNSUR
from services.survey.questionnaire import QUESTIONS
from services.survey.schemas import ResponseCreate, Scores

CODES = [u.code for u in PERMENPAN_14_2017_UNSUR]


def errors(data: dict[str, object]) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        ResponseCreate.model_validate(data)
    return {".".join(str(p) for p in e["loc"]): e["msg"] for e in caught.value.errors()}


def test_the_form_asks_exactly_the_nine_unsur_in_order() -> None:
    assert [q.code for q in QUESTIONS] == CODES
    assert list(Scores.model_fields) == CODES
    assert QUESTIONS[3].answers == ("Sangat mahal", "Cukup mahal", "Murah", "Gratis")


def test_unanswered_questions_stay_null() -> None:
    data = ResponseCreate.model_validate({"scores": {"U1": 4, "U9": None}})
    assert data.scores.model_dump() == {**dict.fromkeys(CODES), "U1": 4}


@pytest.mark.parametrize("score", [0, 5, "4", 3.5, True])
def test_a_score_outside_1_to_4_names_its_unsur(score: object) -> None:
    assert errors({"scores": {"U3": score}}) == {"scores.U3": "Value error, harus antara 1 dan 4."}


def test_unknown_unsur_and_empty_answers_are_refused() -> None:
    assert "scores.U10" in errors({"scores": {"U1": 4, "U10": 4}})
    assert "scores" in errors({"scores": {"U1": None}})


def test_profile_choices_are_read_leniently_and_blanks_are_not_given() -> None:
    data = ResponseCreate.model_validate(
        {
            "scores": {"U1": 3},
            "gender": "p",
            "education": "s1",
            "occupation": "swasta",
            "phone": "0812 3456 7890",
            "name": "  ",
            "age": "",
        }
    )
    assert (data.gender, data.education, data.occupation) == ("P", "S1", "Swasta")
    assert data.phone == "+6281234567890"
    assert data.name is None and data.age is None


def test_profile_values_outside_the_questionnaire_are_refused() -> None:
    found = errors({"scores": {"U1": 3}, "gender": "X", "occupation": "Petani", "age": 7})
    assert set(found) == {"gender", "occupation", "age"}
