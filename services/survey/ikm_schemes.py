"""Survey data for the IKM: the Permenpan RB 14/2017 unsur and the interval tables.

The interval tables turn a konversi value (25.00..100.00) into mutu and kinerja; they are data
so an office can pick the table its report template uses (default Permenpan RB 14/2017).
See /work/shared/domain/skm-ikm.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise

_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Unsur:
    """One survey element: its code, its name in Bahasa Indonesia and what it asks about."""

    code: str
    name: str
    description: str = ""


PERMENPAN_14_2017_UNSUR: tuple[Unsur, ...] = (
    Unsur("U1", "Persyaratan", "the technical and administrative requirements of the service"),
    Unsur(
        "U2",
        "Sistem, mekanisme dan prosedur",
        "the standard procedure for giver and receiver, complaints included",
    ),
    Unsur("U3", "Waktu penyelesaian", "time needed to finish the whole service"),
    Unsur("U4", "Biaya/tarif", "the fee charged"),
    Unsur(
        "U5",
        "Produk spesifikasi jenis pelayanan",
        "whether the product delivered matches what was promised",
    ),
    Unsur("U6", "Kompetensi pelaksana", "knowledge, skill and experience of the staff"),
    Unsur("U7", "Perilaku pelaksana", "attitude of the staff"),
    Unsur(
        "U8",
        "Penanganan pengaduan, saran dan masukan",
        "how complaints and suggestions are handled",
    ),
    Unsur("U9", "Sarana dan prasarana", "facilities and infrastructure"),
)


@dataclass(frozen=True, slots=True)
class SchemeRow:
    """One row of an interval table: the lowest 2-decimal konversi value that falls in it."""

    lower_bound: Decimal
    nilai_persepsi: int
    mutu: str
    kinerja: str


@dataclass(frozen=True, slots=True)
class Scheme:
    """A named interval table; rows are kept in ascending order of lower bound."""

    id: str
    name: str
    rows: tuple[SchemeRow, ...]

    def __post_init__(self) -> None:
        """Reject a table whose rows are empty or not strictly ascending."""
        bounds = [row.lower_bound for row in self.rows]
        if not bounds or any(a >= b for a, b in pairwise(bounds)):
            raise ValueError(f"scheme {self.id!r}: rows must be non-empty and ascending")

    def classify(self, konversi: Decimal) -> SchemeRow:
        """Return the row for a konversi value, judged on its half-up 2-decimal rounding."""
        # The printed tables leave gaps (88.30 / 88.31); lower bounds on the rounded value close
        # them, and rounding here first keeps the category consistent with what is displayed.
        shown = konversi.quantize(_CENT, rounding=ROUND_HALF_UP)
        found = self.rows[0]
        # Values below the first bound (a "bobot 0,11" printout can give 24.75) still get the
        # lowest row, values above 100.00 the highest: every value has exactly one category.
        for row in self.rows:
            if shown >= row.lower_bound:
                found = row
        return found


def _row(lower: str, persepsi: int, mutu: str, kinerja: str) -> SchemeRow:
    """Build a row from the lower bound as printed in the regulation."""
    return SchemeRow(Decimal(lower), persepsi, mutu, kinerja)


PERMENPAN_14_2017 = Scheme(
    id="permenpan-14-2017",
    name="Permenpan RB No. 14 Tahun 2017",
    rows=(
        _row("25.00", 1, "D", "Tidak Baik"),
        _row("65.00", 2, "C", "Kurang Baik"),
        _row("76.61", 3, "B", "Baik"),
        _row("88.31", 4, "A", "Sangat Baik"),
    ),
)

KEPMENPAN_25_2004 = Scheme(
    id="kepmenpan-25-2004",
    name="Kepmenpan No. 25 Tahun 2004",
    rows=(
        _row("25.00", 1, "D", "Tidak Baik"),
        _row("43.76", 2, "C", "Kurang Baik"),
        _row("62.51", 3, "B", "Baik"),
        _row("81.26", 4, "A", "Sangat Baik"),
    ),
)

DEFAULT_SCHEME = PERMENPAN_14_2017

SCHEMES: dict[str, Scheme] = {s.id: s for s in (PERMENPAN_14_2017, KEPMENPAN_25_2004)}
