"""Indeks Kepuasan Masyarakat (IKM) arithmetic, Permenpan RB 14/2017, exact and framework-free.

All arithmetic is done on Fractions; rounding happens only for display (half-up, from the exact
value, never through a binary float). See /work/shared/domain/skm-ikm.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass, replace
from decimal import Decimal
from fractions import Fraction
from typing import Any, cast

from services.survey.ikm_schemes import (
    DEFAULT_SCHEME,
    KEPMENPAN_25_2004,
    PERMENPAN_14_2017,
    PERMENPAN_14_2017_UNSUR,
    SCHEMES,
    Scheme,
    SchemeRow,
    Unsur,
)

__all__ = [
    "DEFAULT_SCHEME",
    "KEPMENPAN_25_2004",
    "PERMENPAN_14_2017",
    "PERMENPAN_14_2017_UNSUR",
    "SCHEMES",
    "IkmResult",
    "PrintedVariant",
    "Scheme",
    "SchemeRow",
    "Unsur",
    "UnsurResult",
    "UnsurTotals",
    "compute_ikm",
    "minimum_sample",
    "round_half_up",
    "sample_sufficient",
    "tally",
]

MIN_SCORE = 1
MAX_SCORE = 4
# IKM (1..4) x 25 gives the konversi value 25..100 printed in reports.
KONVERSI_FACTOR = 25

_PERMENPAN_CODES = tuple(u.code for u in PERMENPAN_14_2017_UNSUR)
_PERMENPAN_NAMES = {u.code: u.name for u in PERMENPAN_14_2017_UNSUR}


@dataclass(frozen=True, slots=True)
class UnsurTotals:
    """Sum of the scores given for one unsur and how many responses answered it."""

    score_sum: int
    answered: int


@dataclass(frozen=True, slots=True)
class UnsurResult:
    """Per-unsur figures; NRR fields are None when nobody answered the unsur."""

    code: str
    name: str | None
    score_sum: int
    answered: int
    nrr: Fraction | None = None
    nrr_display: Decimal | None = None  # 2 decimals
    nrr_tertimbang: Fraction | None = None
    nrr_tertimbang_display: Decimal | None = None  # 3 decimals
    konversi: Decimal | None = None  # NRR x 25, 2 decimals
    nilai_persepsi: int | None = None
    mutu: str | None = None
    kinerja: str | None = None


@dataclass(frozen=True, slots=True)
class PrintedVariant:
    """The index computed with a rounded printed weight (e.g. 0,111), as report templates do."""

    label: str
    weight: Decimal
    ikm: Fraction
    ikm_display: Decimal  # 3 decimals
    konversi_display: Decimal  # 2 decimals
    nilai_persepsi: int | None  # None when the unsur are incomplete (no category then)
    mutu: str | None
    kinerja: str | None


@dataclass(frozen=True, slots=True)
class IkmResult:
    """The index for one unit and period; ikm/mutu are None unless every unsur was answered.

    `complete` is False when an unsur has no answer at all: the headline then carries no
    index and no mutu, and `partial_*` hold the mean over the answered unsur, labelled as such.
    """

    scheme_id: str
    responses: int
    unsur_count: int
    unsur: tuple[UnsurResult, ...]
    incomplete_unsur: tuple[str, ...]
    complete: bool = False
    unsur_used: int = 0
    partial_ikm: Fraction | None = None
    partial_ikm_display: Decimal | None = None
    partial_konversi_display: Decimal | None = None
    weight: Fraction | None = None
    ikm: Fraction | None = None
    ikm_display: Decimal | None = None  # nilai interval on the 1..4 scale, 3 decimals
    konversi: Fraction | None = None
    konversi_display: Decimal | None = None  # IKM x 25, 2 decimals
    nilai_persepsi: int | None = None
    mutu: str | None = None
    kinerja: str | None = None
    printed_variants: tuple[PrintedVariant, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the result as JSON-safe values (Decimals and Fractions as strings)."""
        return cast(dict[str, Any], _jsonable(self))


def _jsonable(value: object) -> object:
    """Convert dataclasses, tuples, Decimals and Fractions into JSON-safe values."""
    if isinstance(value, Decimal | Fraction):
        return str(value)
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def round_half_up(value: Fraction, places: int = 2) -> Decimal:
    """Round an exact value to `places` decimals, halves away from zero, without floats."""
    exact = Fraction(value)
    scale = 10**places
    magnitude = abs(exact) * scale
    # floor(x + 1/2) on the magnitude, done on integers so 88.305 really becomes 88.31.
    q = (2 * magnitude.numerator + magnitude.denominator) // (2 * magnitude.denominator)
    sign = 1 if exact < 0 and q != 0 else 0
    return Decimal((sign, tuple(int(c) for c in str(q)), -places))


def _decimal_label(value: Decimal) -> str:
    """Format a decimal the Indonesian way, with a comma: 0.111 -> "0,111"."""
    return str(value).replace(".", ",")


def _check_totals(totals: Mapping[str, UnsurTotals], codes: Sequence[str], responses: int) -> None:
    """Raise ValueError when the inputs cannot come from real answers."""
    if responses < 0:
        raise ValueError(f"responses must be >= 0, got {responses}")
    if not codes:
        raise ValueError("at least one unsur is needed")
    if len(set(codes)) != len(codes):
        raise ValueError(f"duplicate unsur codes in {list(codes)}")
    unknown = sorted(set(totals) - set(codes))
    if unknown:
        # Totals for codes outside the unsur list mean the survey and the list disagree.
        raise ValueError(f"totals for unknown unsur {unknown}")
    for code, t in totals.items():
        if not 0 <= t.answered <= responses:
            raise ValueError(f"{code}: answered={t.answered} outside 0..{responses}")
        if not MIN_SCORE * t.answered <= t.score_sum <= MAX_SCORE * t.answered:
            raise ValueError(f"{code}: score_sum={t.score_sum} impossible for {t.answered} answers")


def _unsur_result(
    code: str, name: str | None, t: UnsurTotals, k_used: int, scheme: Scheme
) -> UnsurResult:
    """Compute one unsur's NRR, weighted NRR and its own mutu."""
    if t.answered == 0:
        return UnsurResult(code, name, t.score_sum, 0)
    nrr = Fraction(t.score_sum, t.answered)
    tertimbang = nrr / k_used
    konversi = round_half_up(nrr * KONVERSI_FACTOR, 2)
    row = scheme.classify(konversi)
    return UnsurResult(
        code, name, t.score_sum, t.answered, nrr=nrr, nrr_display=round_half_up(nrr, 2),
        nrr_tertimbang=tertimbang, nrr_tertimbang_display=round_half_up(tertimbang, 3),
        konversi=konversi, nilai_persepsi=row.nilai_persepsi, mutu=row.mutu, kinerja=row.kinerja,
    )  # fmt: skip


def _printed_variant(
    nrrs: Sequence[Fraction], weight: Decimal, scheme: Scheme, complete: bool
) -> PrintedVariant:
    """Compute the index the way a template does that multiplies by a rounded weight.

    The template's weight is fixed (0,111 for nine unsur) whatever is blank: a blank column
    adds nothing, so the value stays on the 25..100 scale and no category is given for it.
    """
    ikm = sum((n * Fraction(weight) for n in nrrs), Fraction(0))
    konversi = round_half_up(ikm * KONVERSI_FACTOR, 2)
    label = f"bobot {_decimal_label(weight)}"
    if not complete:
        return PrintedVariant(label, weight, ikm, round_half_up(ikm, 3), konversi, None, None, None)
    row = scheme.classify(konversi)
    return PrintedVariant(
        label, weight, ikm, round_half_up(ikm, 3), konversi, row.nilai_persepsi, row.mutu,
        row.kinerja,
    )  # fmt: skip


def compute_ikm(
    totals: Mapping[str, UnsurTotals],
    unsur_codes: Sequence[str | Unsur],
    responses: int,
    scheme: Scheme = PERMENPAN_14_2017,
) -> IkmResult:
    """Compute the IKM, its konversi, mutu and per-unsur figures from per-unsur totals.

    IKM is the mean of the NRR of the k unsur (weight 1/k). It is defined only when every unsur
    has at least one answer: otherwise ikm, konversi and mutu are None, `complete` is False,
    the unanswered codes are in `incomplete_unsur`, and `partial_*` give the mean over the
    answered unsur (never classified). Codes missing from `totals` count as unanswered.

    `unsur_codes` may hold plain codes or Unsur objects (which carry their names); plain codes
    are named from Permenpan 14/2017 only when they are exactly its nine codes in order.

    `printed_variants` repeat the index with the weight 1/k printed to 3 and 2 decimals (0,111
    and 0,11 for nine unsur, fixed whatever is blank) and then used as is; 0,11 caps at 99.00.
    """
    codes = [u.code if isinstance(u, Unsur) else u for u in unsur_codes]
    default_names = _PERMENPAN_NAMES if tuple(codes) == _PERMENPAN_CODES else {}
    names = [u.name if isinstance(u, Unsur) else default_names.get(u) for u in unsur_codes]
    _check_totals(totals, codes, responses)
    blank = UnsurTotals(0, 0)
    per_code = [totals.get(c, blank) for c in codes]
    incomplete = tuple(c for c, t in zip(codes, per_code, strict=True) if not t.answered)
    unsur = tuple(
        _unsur_result(c, n, t, len(codes), scheme)
        for c, n, t in zip(codes, names, per_code, strict=True)
    )
    per_unsur = IkmResult(scheme.id, responses, len(codes), unsur, incomplete)
    nrrs = [Fraction(t.score_sum, t.answered) for t in per_code if t.answered]
    return _with_index(per_unsur, nrrs, scheme) if nrrs else per_unsur


def _with_index(per_unsur: IkmResult, nrrs: Sequence[Fraction], scheme: Scheme) -> IkmResult:
    """Adds the index to the per-unsur figures: the IKM and its mutu when every unsur was
    answered, else only the partial mean of the answered ones (never classified)."""
    k_used = len(nrrs)
    complete = not per_unsur.incomplete_unsur
    weight = Fraction(1, per_unsur.unsur_count)
    printed = tuple(
        _printed_variant(nrrs, round_half_up(weight, places), scheme, complete) for places in (3, 2)
    )
    mean = sum(nrrs, Fraction(0)) / k_used
    if not complete:
        return replace(
            per_unsur, complete=False, unsur_used=k_used, partial_ikm=mean,
            partial_ikm_display=round_half_up(mean, 3),
            partial_konversi_display=round_half_up(mean * KONVERSI_FACTOR, 2),
            weight=weight, printed_variants=printed,
        )  # fmt: skip
    konversi = mean * KONVERSI_FACTOR
    konversi_display = round_half_up(konversi, 2)
    row = scheme.classify(konversi_display)
    return replace(
        per_unsur, complete=True, unsur_used=k_used, weight=weight, ikm=mean,
        ikm_display=round_half_up(mean, 3), konversi=konversi, konversi_display=konversi_display,
        nilai_persepsi=row.nilai_persepsi, mutu=row.mutu, kinerja=row.kinerja,
        printed_variants=printed,
    )  # fmt: skip


def tally(responses: Iterable[Mapping[str, int | None]]) -> dict[str, UnsurTotals]:
    """Sum per-unsur scores over responses; None (left empty) is not counted."""
    sums: dict[str, list[int]] = {}
    for index, response in enumerate(responses):
        for code, score in response.items():
            acc = sums.setdefault(code, [0, 0])
            if score is None:
                continue
            # bool is an int subclass; True must not sneak in as a score of 1.
            if (
                isinstance(score, bool)
                or not isinstance(score, int)
                or not (MIN_SCORE <= score <= MAX_SCORE)
            ):
                raise ValueError(
                    f"response {index}, {code}: score {score!r} outside {MIN_SCORE}..{MAX_SCORE}"
                )
            acc[0] += score
            acc[1] += 1
    return {code: UnsurTotals(s, n) for code, (s, n) in sums.items()}


# Krejcie and Morgan: chi-square for 1 degree of freedom at 95 %, proportion 0.5, margin 5 %.
_X2 = Fraction("3.841")
_P = Fraction(1, 2)
_D = Fraction(5, 100)


def minimum_sample(population: int) -> int:
    """Return the Krejcie-Morgan minimum number of respondents for a population (half-up)."""
    if population <= 0:
        return 0
    variance = _X2 * _P * (1 - _P)
    s = variance * population / (_D**2 * (population - 1) + variance)
    # s tends to 384.1 as the population grows, so the rounded value never exceeds 384.
    return int(round_half_up(s, 0))


def sample_sufficient(responses: int, population: int) -> bool:
    """Tell whether a period's responses reach the Krejcie-Morgan minimum for its population."""
    return responses >= minimum_sample(population)
