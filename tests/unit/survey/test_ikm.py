"""Behaviour of the IKM arithmetic (Permenpan RB 14/2017) as an operator would see it."""

import json
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from services.survey.ikm import (
    KEPMENPAN_25_2004,
    PERMENPAN_14_2017,
    PERMENPAN_14_2017_UNSUR,
    SCHEMES,
    Unsur,
    UnsurTotals,
    compute_ikm,
    minimum_sample,
    round_half_up,
    sample_sufficient,
    tally,
)

CODES = [u.code for u in PERMENPAN_14_2017_UNSUR]


def ikm_of(answers: list[dict[str, int | None]], codes: list[str] = CODES, **kw: Any) -> Any:
    """Tally raw answers and compute the index, as the survey service would."""
    return compute_ikm(tally(answers), codes, len(answers), **kw)


def same_answer(score: int, n: int = 3, codes: list[str] = CODES) -> list[dict[str, int | None]]:
    return [dict.fromkeys(codes, score) for _ in range(n)]


def test_nine_unsur_in_order_with_indonesian_names() -> None:
    assert [f"U{i}" for i in range(1, 10)] == CODES
    assert PERMENPAN_14_2017_UNSUR[0].name == "Persyaratan"
    assert PERMENPAN_14_2017_UNSUR[3].name == "Biaya/tarif"
    assert PERMENPAN_14_2017_UNSUR[8].name == "Sarana dan prasarana"


def test_schemes_by_id_and_default() -> None:
    assert SCHEMES["permenpan-14-2017"] is PERMENPAN_14_2017
    assert SCHEMES["kepmenpan-25-2004"] is KEPMENPAN_25_2004
    assert ikm_of(same_answer(4)).scheme_id == "permenpan-14-2017"


def test_every_answer_4_is_100_sangat_baik() -> None:
    r = ikm_of(same_answer(4))
    assert r.ikm == 4
    assert str(r.ikm_display) == "4.000"
    assert str(r.konversi_display) == "100.00"
    assert (r.nilai_persepsi, r.mutu, r.kinerja) == (4, "A", "Sangat Baik")
    assert r.weight == Fraction(1, 9)
    assert r.incomplete_unsur == ()


def test_every_answer_1_is_25_tidak_baik() -> None:
    r = ikm_of(same_answer(1))
    assert str(r.konversi_display) == "25.00"
    assert (r.nilai_persepsi, r.mutu, r.kinerja) == (1, "D", "Tidak Baik")


def test_worked_example_one_respondent() -> None:
    scores = [4, 3, 3, 4, 3, 3, 4, 4, 3]
    r = ikm_of([dict(zip(CODES, scores, strict=True))])
    assert r.ikm == Fraction(31, 9)
    assert str(r.ikm_display) == "3.444"
    assert str(r.konversi_display) == "86.11"
    assert (r.mutu, r.kinerja) == ("B", "Baik")
    u1, u2 = r.unsur[0], r.unsur[1]
    assert (u1.code, u1.name, u1.nrr, str(u1.nrr_display)) == ("U1", "Persyaratan", 4, "4.00")
    assert u1.nrr_tertimbang == Fraction(4, 9)
    assert str(u1.nrr_tertimbang_display) == "0.444"
    assert (str(u1.konversi), u1.mutu, u1.kinerja) == ("100.00", "A", "Sangat Baik")
    assert (str(u2.konversi), u2.mutu, u2.kinerja) == ("75.00", "C", "Kurang Baik")


def test_empty_answer_does_not_count_in_that_unsur_denominator() -> None:
    answers: list[dict[str, int | None]] = [dict.fromkeys(CODES, 4), dict.fromkeys(CODES, 2)]
    answers[1]["U1"] = None
    r = ikm_of(answers)
    u1 = r.unsur[0]
    assert (u1.score_sum, u1.answered, u1.nrr) == (4, 1, 4)
    assert r.unsur[1].nrr == 3
    assert r.ikm == (4 + 8 * 3) * Fraction(1, 9)
    assert r.incomplete_unsur == ()


def test_unsur_nobody_answered_gives_no_index_and_no_mutu_only_a_labelled_partial_mean() -> None:
    answers: list[dict[str, int | None]] = same_answer(4, 2)
    for a in answers:
        a["U9"] = None
    r = ikm_of(answers)
    assert r.incomplete_unsur == ("U9",) and r.complete is False
    assert (r.ikm, r.konversi_display, r.mutu, r.kinerja, r.nilai_persepsi) == (None,) * 5
    assert (r.unsur_count, r.unsur_used, r.weight) == (9, 8, Fraction(1, 9))
    assert (str(r.partial_ikm_display), str(r.partial_konversi_display)) == ("4.000", "100.00")
    assert r.unsur[8].nrr is None and r.unsur[8].mutu is None
    assert r.unsur[0].mutu == "A"  # each answered unsur keeps its own figures


def test_only_u1_answered_is_not_100_a_sangat_baik() -> None:
    r = compute_ikm({"U1": UnsurTotals(4, 1)}, CODES, 1)
    assert r.complete is False and r.mutu is None and r.konversi_display is None
    assert r.incomplete_unsur == tuple(CODES[1:])
    assert all(v.mutu is None for v in r.printed_variants)


def test_printed_variants_keep_the_fixed_template_weights_when_an_unsur_is_blank() -> None:
    answers: list[dict[str, int | None]] = same_answer(4, 3)
    for a in answers:
        a["U9"] = None
    v111, v11 = ikm_of(answers).printed_variants
    assert (v111.label, v11.label) == ("bobot 0,111", "bobot 0,11")
    # 8 unsur x 4 x 0.111 x 25 = 88.80; never 1/8 rounded to 0,13 (konversi 104.00).
    assert (str(v111.konversi_display), str(v11.konversi_display)) == ("88.80", "88.00")
    assert v111.mutu is None and v11.mutu is None


def test_missing_code_in_totals_counts_as_unanswered() -> None:
    totals = {c: UnsurTotals(3, 1) for c in CODES[:-1]}
    r = compute_ikm(totals, CODES, 1)
    assert r.incomplete_unsur == ("U9",)
    assert r.ikm is None and r.partial_ikm == 3


def test_88_305_displays_88_31_and_classifies_as_a() -> None:
    assert round_half_up(Fraction(17661, 200)) == Decimal("88.31")
    # NRR 17661/5000 = 3.5322 on every unsur gives konversi exactly 88.305.
    totals = {c: UnsurTotals(17661, 5000) for c in CODES}
    r = compute_ikm(totals, CODES, 5000)
    assert r.konversi == Fraction(17661, 200)
    assert str(r.konversi_display) == "88.31"
    assert (r.mutu, r.kinerja) == ("A", "Sangat Baik")


@pytest.mark.parametrize(
    ("value", "places", "shown"),
    [
        (Fraction(1, 8), 2, "0.13"),
        (Fraction(-1, 8), 2, "-0.13"),
        (Fraction(31, 9), 3, "3.444"),
        (Fraction(100), 2, "100.00"),
        (Fraction(0), 2, "0.00"),
        (Fraction(769, 2), 0, "385"),
    ],
)
def test_round_half_up(value: Fraction, places: int, shown: str) -> None:
    assert str(round_half_up(value, places)) == shown


@pytest.mark.parametrize(
    ("konversi", "mutu", "kinerja"),
    [
        ("25.00", "D", "Tidak Baik"),
        ("64.99", "D", "Tidak Baik"),
        ("65.00", "C", "Kurang Baik"),
        ("76.60", "C", "Kurang Baik"),
        ("76.61", "B", "Baik"),
        ("88.30", "B", "Baik"),
        ("88.31", "A", "Sangat Baik"),
        ("100.00", "A", "Sangat Baik"),
    ],
)
def test_permenpan_boundaries(konversi: str, mutu: str, kinerja: str) -> None:
    row = PERMENPAN_14_2017.classify(Decimal(konversi))
    assert (row.mutu, row.kinerja) == (mutu, kinerja)


@pytest.mark.parametrize(
    ("konversi", "mutu"),
    [
        ("43.75", "D"),
        ("43.76", "C"),
        ("62.50", "C"),
        ("62.51", "B"),
        ("81.25", "B"),
        ("81.26", "A"),
    ],
)
def test_kepmenpan_boundaries(konversi: str, mutu: str) -> None:
    assert KEPMENPAN_25_2004.classify(Decimal(konversi)).mutu == mutu


@pytest.mark.parametrize("scheme", [PERMENPAN_14_2017, KEPMENPAN_25_2004])
def test_every_value_25_to_100_has_exactly_one_ordered_category(scheme: Any) -> None:
    seen = [
        scheme.classify(Decimal(cents).scaleb(-2)).nilai_persepsi for cents in range(2500, 10001)
    ]
    assert seen == sorted(seen)
    assert set(seen) == {1, 2, 3, 4}


def test_classification_uses_the_displayed_value() -> None:
    assert PERMENPAN_14_2017.classify(Decimal("88.305")).mutu == "A"
    assert PERMENPAN_14_2017.classify(Decimal("88.3049")).mutu == "B"


def test_scheme_choice_changes_the_category_not_the_number() -> None:
    new = ikm_of(same_answer(3))
    old = ikm_of(same_answer(3), scheme=KEPMENPAN_25_2004)
    assert str(new.konversi_display) == str(old.konversi_display) == "75.00"
    assert (new.mutu, new.kinerja) == ("C", "Kurang Baik")
    assert (old.mutu, old.kinerja, old.scheme_id) == ("B", "Baik", "kepmenpan-25-2004")


def test_printed_variants_for_all_4() -> None:
    r = ikm_of(same_answer(4))
    v111, v11 = r.printed_variants
    assert (v111.label, v111.weight, str(v111.konversi_display)) == (
        "bobot 0,111",
        Decimal("0.111"),
        "99.90",
    )
    assert (v11.label, v11.weight, str(v11.konversi_display)) == (
        "bobot 0,11",
        Decimal("0.11"),
        "99.00",
    )
    assert str(v11.ikm_display) == "3.960"
    assert v11.mutu == "A"
    assert str(r.konversi_display) == "100.00"  # the exact figure is still there


def test_printed_variant_can_drop_a_category() -> None:
    # Exact 88.31 (A), but weight 0,11 prints 87.43 (B): the mismatch operators ask about.
    totals = {c: UnsurTotals(35324, 10000) for c in CODES}
    r = compute_ikm(totals, CODES, 10000)
    assert (str(r.konversi_display), r.mutu) == ("88.31", "A")
    v11 = r.printed_variants[1]
    assert (str(v11.konversi_display), v11.mutu) == ("87.43", "B")


def test_printed_variant_all_1_with_0_11_is_below_table_but_still_d() -> None:
    v11 = ikm_of(same_answer(1)).printed_variants[1]
    assert (str(v11.konversi_display), v11.mutu) == ("24.75", "D")


def test_fourteen_unsur_kepmenpan_25_2004() -> None:
    codes = [f"U{i}" for i in range(1, 15)]
    answers = same_answer(4, 2, codes)
    answers[1]["U14"] = 1
    r = ikm_of(answers, codes, scheme=KEPMENPAN_25_2004)
    assert (r.unsur_count, r.weight) == (14, Fraction(1, 14))
    assert r.ikm == (13 * 4 + Fraction(5, 2)) / 14
    assert str(r.konversi_display) == "97.32"
    assert r.mutu == "A"
    assert len(r.unsur) == 14
    assert r.unsur[0].name is None  # plain codes outside the 2017 set get no 2017 name
    assert [v.label for v in r.printed_variants] == ["bobot 0,071", "bobot 0,07"]


def test_unsur_objects_carry_their_names() -> None:
    unsur = [Unsur("P1", "Prosedur pelayanan"), Unsur("P2", "Persyaratan pelayanan")]
    r = compute_ikm({"P1": UnsurTotals(4, 1), "P2": UnsurTotals(2, 1)}, unsur, 1)
    assert [u.name for u in r.unsur] == ["Prosedur pelayanan", "Persyaratan pelayanan"]
    assert r.ikm == 3


def test_empty_period_gives_a_result_without_index() -> None:
    r = compute_ikm({}, CODES, 0)
    assert (r.responses, r.ikm, r.konversi_display, r.mutu, r.kinerja) == (
        0,
        None,
        None,
        None,
        None,
    )
    assert r.incomplete_unsur == tuple(CODES)
    assert r.printed_variants == ()
    json.dumps(r.to_dict())


def test_to_dict_is_json_safe_with_strings_for_numbers() -> None:
    scores = [4, 3, 3, 4, 3, 3, 4, 4, 3]
    d = ikm_of([dict(zip(CODES, scores, strict=True))]).to_dict()
    json.dumps(d)
    assert d["konversi_display"] == "86.11"
    assert d["ikm"] == "31/9"
    assert d["ikm_display"] == "3.444"
    assert d["mutu"] == "B"
    assert d["unsur"][0]["nrr_display"] == "4.00"
    assert d["printed_variants"][1]["label"] == "bobot 0,11"
    assert d["incomplete_unsur"] == []


@pytest.mark.parametrize("bad", [0, 5, -1, True, 2.5, "4"])
def test_scores_outside_1_to_4_are_rejected(bad: Any) -> None:
    with pytest.raises(ValueError, match="U2"):
        tally([{"U1": 4, "U2": bad}])


@pytest.mark.parametrize(
    ("totals", "responses"),
    [
        ({"U1": UnsurTotals(17, 4)}, 4),  # more than 4 per answer
        ({"U1": UnsurTotals(3, 4)}, 4),  # less than 1 per answer
        ({"U1": UnsurTotals(8, 2)}, 1),  # more answers than responses
        ({"X1": UnsurTotals(4, 1)}, 1),  # unsur not in the list
    ],
)
def test_impossible_totals_are_rejected(totals: dict[str, UnsurTotals], responses: int) -> None:
    with pytest.raises(ValueError):
        compute_ikm(totals, CODES, responses)


def test_tally_sums_and_skips_empty() -> None:
    t = tally([{"U1": 4, "U2": None}, {"U1": 3, "U2": 2}, {"U1": None, "U2": None}])
    assert t == {"U1": UnsurTotals(7, 2), "U2": UnsurTotals(2, 1)}


@pytest.mark.parametrize(
    ("population", "sample"),
    [(100, 80), (1000, 278), (10000, 370), (1, 1), (0, 0), (-5, 0), (10**9, 384)],
)
def test_krejcie_morgan_minimum_sample(population: int, sample: int) -> None:
    assert minimum_sample(population) == sample


def test_minimum_sample_never_above_384() -> None:
    assert max(minimum_sample(n) for n in range(1, 200_000, 997)) <= 384


def test_sample_sufficient() -> None:
    assert sample_sufficient(80, 100)
    assert not sample_sufficient(79, 100)
