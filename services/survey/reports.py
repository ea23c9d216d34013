"""The IKM report of a period: headline, per unsur, trend, units, profiles, guided (pure)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any

from services.survey.aggregation import GUIDED_PREFIX
from services.survey.ikm import (
    KONVERSI_FACTOR,
    PERMENPAN_14_2017_UNSUR,
    IkmResult,
    Scheme,
    UnsurTotals,
    compute_ikm,
    round_half_up,
)
from services.survey.repository import PeriodSums
from services.survey.statuses import HeadlineStatus

UNSUR_CODES = tuple(u.code for u in PERMENPAN_14_2017_UNSUR)
WEIGHTS = ("exact", "0.111", "0.11")
EXACT_LABEL = "bobot 1/9 (tepat, Permenpan RB 14/2017)"
RULE = (
    "Permenpan RB 14/2017: setiap unsur pelayanan memiliki penimbang yang sama, "
    "bobot = jumlah bobot / jumlah unsur = 1/9."
)


def totals_of(rows: Iterable[tuple[str, int, int]], prefix: str = "") -> dict[str, UnsurTotals]:
    """Sums (key, score_sum, answered) rows into per-unsur totals for keys with the prefix."""
    acc: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for key, score_sum, answered in rows:
        if key.startswith(prefix) and key[len(prefix) :] in UNSUR_CODES:
            code = key[len(prefix) :]
            acc[code][0] += score_sum
            acc[code][1] += answered
    return {code: UnsurTotals(a, b) for code, (a, b) in acc.items()}


def result_of(totals: Mapping[str, UnsurTotals], responses: int, scheme: Scheme) -> IkmResult:
    """The IKM of some totals (Permenpan RB 14/2017 unsur)."""
    return compute_ikm(totals, PERMENPAN_14_2017_UNSUR, responses, scheme)


def headline(result: IkmResult, weight: str) -> dict[str, Any]:
    """What a report shows first: the figure of the chosen weight, or why there is none."""
    names = {u.code: u.name for u in PERMENPAN_14_2017_UNSUR}
    if result.responses == 0 or result.unsur_used == 0:
        return {"status": HeadlineStatus.KOSONG, "message": "Belum ada jawaban pada periode ini."}
    if not result.complete:
        missing = ", ".join(f"{c} ({names.get(c, c)})" for c in result.incomplete_unsur)
        return {
            "status": HeadlineStatus.TIDAK_LENGKAP,
            "message": (
                f"IKM tidak dihitung: unsur {missing} belum dijawab satu responden pun. {RULE} "
                f"Rata-rata {result.unsur_used} unsur yang terjawab "
                f"({result.partial_konversi_display}) hanya nilai sementara, tanpa mutu."
            ),
            "weight": weight,
        }
    if weight == "exact":
        return {
            "status": HeadlineStatus.LENGKAP, "weight": weight, "label": EXACT_LABEL,
            "ikm_display": str(result.ikm_display),
            "konversi_display": str(result.konversi_display),
            "mutu": result.mutu, "kinerja": result.kinerja,
        }  # fmt: skip
    variant = next(v for v in result.printed_variants if str(v.weight) == weight)
    return {
        "status": HeadlineStatus.LENGKAP, "weight": weight,
        "label": f"{variant.label} (seperti templat laporan; angka tepat: "
        f"{result.konversi_display})",
        "ikm_display": str(variant.ikm_display),
        "konversi_display": str(variant.konversi_display),
        "mutu": variant.mutu, "kinerja": variant.kinerja,
    }  # fmt: skip


def _brief(totals: Mapping[str, UnsurTotals], responses: int, scheme: Scheme) -> dict[str, Any]:
    """The few numbers a comparison row needs (the same arithmetic, without per-unsur detail)."""
    nrrs = [Fraction(t.score_sum, t.answered) for t in totals.values() if t.answered]
    complete = len(nrrs) == len(UNSUR_CODES)
    mean = sum(nrrs, Fraction(0)) / len(nrrs) if nrrs else None
    shown = None if mean is None else round_half_up(mean * KONVERSI_FACTOR, 2)
    row = scheme.classify(shown) if complete and shown is not None else None
    return {
        "responses": responses,
        "complete": complete,
        "ikm_display": str(round_half_up(mean, 3)) if complete and mean is not None else None,
        "konversi_display": str(shown) if complete else None,
        "mutu": row.mutu if row else None,
        "kinerja": row.kinerja if row else None,
        "partial_konversi_display": None if complete or shown is None else str(shown),
    }


def _per_key(
    rows: Mapping[Any, list[tuple[str, int, int]]], counts: Mapping[Any, int], scheme: Scheme
) -> list[tuple[Any, dict[str, Any]]]:
    """One comparison row per month or unit, in order."""
    keys = sorted(set(rows) | set(counts))
    return [(k, _brief(totals_of(rows.get(k, [])), counts.get(k, 0), scheme)) for k in keys]


def breakdowns(sums: PeriodSums, scheme: Scheme, unit_names: Mapping[str, str]) -> dict[str, Any]:
    """Monthly trend, units side by side, respondent profiles and guided vs unguided."""
    months: dict[int, list[tuple[str, int, int]]] = defaultdict(list)
    units: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
    for unit, ym, key, score_sum, answered in sums.scores:
        months[ym].append((key, score_sum, answered))
        units[unit].append((key, score_sum, answered))
    month_n: dict[int, int] = defaultdict(int)
    unit_n: dict[str, int] = defaultdict(int)
    for unit, ym, n in sums.counts:
        month_n[ym] += n
        unit_n[unit] += n
    profile: dict[str, dict[str, int]] = defaultdict(dict)
    for dimension, value, n in sums.profiles:
        profile[dimension][value] = profile[dimension].get(value, 0) + n
    all_rows = [r for rows in units.values() for r in rows]
    guided_n = profile.get("guided", {}).get("ya", 0)
    everyone, guided = totals_of(all_rows), totals_of(all_rows, GUIDED_PREFIX)
    unguided = {
        c: UnsurTotals(t.score_sum - guided.get(c, UnsurTotals(0, 0)).score_sum,
                       t.answered - guided.get(c, UnsurTotals(0, 0)).answered)
        for c, t in everyone.items()
    }  # fmt: skip
    total_n = sum(unit_n.values())
    return {
        "trend": [
            {"month": f"{ym // 100:04d}-{ym % 100:02d}", **brief}
            for ym, brief in _per_key(months, month_n, scheme)
        ],
        "units": [
            {"unit": u, "unit_name": unit_names.get(u), **brief}
            for u, brief in _per_key(units, unit_n, scheme)
        ],
        "profile": {d: dict(sorted(v.items())) for d, v in sorted(profile.items())},
        "guided": {
            "guided": _brief(guided, guided_n, scheme),
            "unguided": _brief(unguided, total_n - guided_n, scheme),
        },
    }
