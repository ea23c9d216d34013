"""Resubmission keys and the import parser, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.survey.imports import parse_rows, read_table, template_csv
from services.survey.intake import Intake, submission_keys
from services.survey.schemas import ResponseCreate

ANSWERS = ResponseCreate.model_validate({"scores": {"U1": 4, "U2": 3}})
NOW = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


def test_the_same_answers_from_the_same_device_share_a_key_across_a_window_boundary() -> None:
    intake = Intake(device="cookie:a", duplicate_window_s=600)
    first = submission_keys("kantor", ANSWERS, intake, NOW)
    later = submission_keys("kantor", ANSWERS, intake, NOW + timedelta(seconds=599))
    assert set(first.insert) & set(later.lookup)  # the next window still finds the first
    far = submission_keys("kantor", ANSWERS, intake, NOW + timedelta(seconds=1300))
    assert not set(first.insert) & set(far.lookup)


def test_another_device_another_unit_or_other_answers_make_other_keys() -> None:
    base = submission_keys("kantor", ANSWERS, Intake(device="cookie:a"), NOW)
    other = ResponseCreate.model_validate({"scores": {"U1": 4, "U2": 2}})
    for keys in (
        submission_keys("kantor", ANSWERS, Intake(device="cookie:b"), NOW),
        submission_keys("loket", ANSWERS, Intake(device="cookie:a"), NOW),
        submission_keys("kantor", other, Intake(device="cookie:a"), NOW),
    ):
        assert not set(base.insert) & set(keys.lookup)


def test_an_idempotency_key_alone_needs_no_device() -> None:
    keys = submission_keys("kantor", ANSWERS, Intake(idempotency_key="abc"), NOW)
    assert len(keys.insert) == 1 and keys.insert[0].startswith("k:")
    assert submission_keys("kantor", ANSWERS, Intake(), NOW).insert == ()


def test_a_form_token_replaces_the_device_rule_so_a_shared_tablet_counts_each_form_load() -> None:
    tablet = {"device": "addr:10.0.0.5|Tablet", "duplicate_window_s": 600}
    load_a = submission_keys("kantor", ANSWERS, Intake(form_token="a" * 24, **tablet), NOW)
    again = submission_keys("kantor", ANSWERS, Intake(form_token="a" * 24, **tablet), NOW)
    load_b = submission_keys("kantor", ANSWERS, Intake(form_token="b" * 24, **tablet), NOW)
    assert set(load_a.insert) == set(again.lookup)  # the same form load: found again
    assert not set(load_a.insert) & set(load_b.lookup)  # the next citizen's load: a new one
    assert all(k.startswith("t:") for k in load_a.insert + load_a.lookup)
    # The token is not part of what was answered: equal answers keep equal hashes.
    assert load_a.body_hash == load_b.body_hash
    bare = submission_keys("kantor", ANSWERS, Intake(**tablet), NOW)
    assert bare.insert and all(k.startswith("f:") for k in bare.insert)


def test_a_semicolon_csv_from_a_spreadsheet_and_the_template_parse() -> None:
    text = "tanggal;U1;U2;U3;U4;U5;U6;U7;U8;U9\n2025-03-10;4;4;4;4;4;4;4;4;4\n"
    parsed = parse_rows(read_table("a.csv", text.encode("utf-8-sig")), "Asia/Jakarta")
    assert [n for n, _ in parsed.rows] == [2] and parsed.problems == []
    when = parsed.rows[0][1].submitted_at
    assert when is not None and when.utcoffset() == timedelta(hours=7)
    template = parse_rows(read_table("t.csv", template_csv().encode()), "Asia/Jakarta")
    assert len(template.rows) == 1 and template.problems == []


def test_full_width_digits_are_not_scores() -> None:
    text = "U1,U2,U3,U4,U5,U6,U7,U8,U9\n４,4,4,4,4,4,4,4,4\n"
    parsed = parse_rows(read_table("a.csv", text.encode()), "Asia/Jakarta")
    assert parsed.rows == [] and [(p.row, p.column) for p in parsed.problems] == [(2, "U1")]
