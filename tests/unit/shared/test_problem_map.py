"""The one table of refusals: every named problem has a row, every row a problem, and each
message can be filled from what the raise sites pass."""

from __future__ import annotations

import ast
import string
from collections import Counter
from pathlib import Path

import pytest

from services.survey.periods import resolve_period
from services.survey.reporting import UnknownScheme
from services.survey.tickets import TicketClosed
from shared.problem_map import FALLBACK, PROBLEMS, answer_for
from shared.problems import Problem
from shared.ratelimit import NetworkRateLimited, PhoneRateLimited

ROOT = Path(__file__).resolve().parents[3]


def _trees() -> list[ast.Module]:
    paths = [*(ROOT / "services").rglob("*.py"), *(ROOT / "shared").rglob("*.py")]
    return [ast.parse(p.read_text(encoding="utf-8")) for p in sorted(paths)]


def problem_classes(trees: list[ast.Module]) -> tuple[list[str], list[str]]:
    """Names of the classes deriving from Problem (directly or not), and of every class."""
    definitions: list[tuple[str, set[str]]] = []
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases = {ast.unparse(b).split(".")[-1] for b in node.bases}
                definitions.append((node.name, bases))
    found = {"Problem"}
    while True:
        more = {n for n, b in definitions if n not in found and found & b}
        if not more:
            problems = [n for n, b in definitions if found & b]
            return problems, [n for n, _b in definitions]
        found |= more


def raise_sites(trees: list[ast.Module], classes: set[str]) -> list[tuple[str, set[str]]]:
    """(class, keyword names) of every call that builds a named problem."""
    sites = []
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = ast.unparse(node.func).split(".")[-1]
                if name in classes:
                    sites.append((name, {k.arg for k in node.keywords if k.arg}))
    return sites


def test_every_problem_has_one_row_and_every_row_a_problem() -> None:
    classes, every_class = problem_classes(_trees())
    # The table is keyed by name, and raise sites are checked by name: a problem's name is
    # used by no other class in services/ or shared/.
    counts = Counter(every_class)
    twice = [n for n in classes if counts[n] > 1]
    assert not twice, f"problem class names must be unique: {twice}"
    assert set(classes) - set(PROBLEMS) == set(), "problems without a row in PROBLEMS"
    assert set(PROBLEMS) - set(classes) == set(), "stale rows in PROBLEMS"
    assert "TicketClosed" in classes and len(classes) >= 20


def test_every_raise_passes_what_its_message_needs() -> None:
    trees = _trees()
    sites = raise_sites(trees, set(problem_classes(trees)[0]))
    assert sites
    for name, keywords in sites:
        row = PROBLEMS[name]
        needed = {f for _t, f, _s, _c in string.Formatter().parse(row.message) if f}
        missing = needed - keywords - ({"field"} if row.field else set())
        assert not missing, f"{name}(...) does not pass {missing} for its message"


def test_a_named_problem_answers_from_the_table() -> None:
    answer = answer_for(UnknownScheme(scheme="lama", choices="a, b"))
    assert (answer.status, answer.code, answer.field) == (422, "data_tidak_valid", "scheme")
    assert answer.message == "Skema 'lama' tidak dikenal. Pilihan: a, b."
    closed = answer_for(TicketClosed())
    assert (closed.status, closed.code, closed.message) == (
        409,
        "ditolak",
        "Tiket ini sudah selesai.",
    )


def test_a_field_given_at_the_raise_wins_and_fills_the_message() -> None:
    # A date past the survey years on "to" names "to", in the field and in the message.
    from datetime import date

    with pytest.raises(Problem) as caught:
        resolve_period(None, None, date(9999, 12, 31), 2026)
    answer = answer_for(caught.value)
    assert (answer.status, answer.field) == (422, "to")
    assert answer.message == "Tanggal akhir (to) harus antara tahun 2000 dan 2100."


def test_a_rate_limit_answers_429_with_retry_after_and_the_wait_in_words() -> None:
    limited = answer_for(NetworkRateLimited(retry_after=30, wait="30 detik"))
    assert (limited.status, limited.code, limited.headers) == (
        429, "terlalu_banyak_permintaan", {"Retry-After": "30"},
    )  # fmt: skip
    assert limited.message == (
        "Terlalu banyak permintaan dari jaringan Anda. Silakan coba lagi dalam 30 detik."
    )
    by_phone = answer_for(PhoneRateLimited(retry_after=180, wait="3 menit"))
    assert by_phone.message.startswith("Nomor HP ini terlalu sering dipakai")
    assert by_phone.message.endswith("dalam 3 menit.")


def test_a_problem_without_a_row_still_refuses_in_indonesian() -> None:
    class Unlisted(Problem):
        pass

    answer = answer_for(Unlisted())
    assert (answer.status, answer.message) == (FALLBACK.status, FALLBACK.message)
