"""Respondent lists and the office's IKM workbook: CSV and XLSX (pure, no I/O)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from services.survey.models import Response
from shared.privacy import mask_phone

CODES = [f"U{i}" for i in range(1, 10)]
PROFILE_COLUMNS = ["Tanggal", "Unit", "Jenis layanan", "L/P", "Usia", "Pendidikan", "Pekerjaan"]


def respondent_row(r: Response, *, phones: bool) -> dict[str, Any]:
    """One respondent as the operator sees them; the phone masked unless asked for."""
    phone = r.phone if phones or r.phone is None else mask_phone(r.phone)
    return {
        "id": str(r.id), "submitted_at": r.submitted_at.isoformat(),
        "local_date": r.local_date.isoformat(), "unit": r.unit, "channel": r.channel,
        "scores": r.scores, "service_type": r.service_type, "gender": r.gender, "age": r.age,
        "education": r.education, "occupation": r.occupation, "suggestion": r.suggestion,
        "name": r.name, "phone": phone, "phone_consent": r.phone_consent,
        "guided": r.guide_code is not None,
    }  # fmt: skip


def _cells(r: Response, phones: bool) -> list[Any]:
    row = respondent_row(r, phones=phones)
    return [
        row["local_date"], row["unit"], row["service_type"], row["gender"], row["age"],
        row["education"], row["occupation"], *[r.scores.get(c) for c in CODES],
        row["suggestion"], row["name"], row["phone"],
    ]  # fmt: skip


def header() -> list[str]:
    """The columns of a respondent export."""
    return ["No", *PROFILE_COLUMNS, *CODES, "Saran", "Nama", "No HP"]


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _inert(value: Any) -> Any:
    """Text a spreadsheet would run as a formula (a saran "=HYPERLINK(...)") stays text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def respondents_csv(responses: Sequence[Response], *, phones: bool) -> str:
    """Respondents as CSV, one row each; no cell can be read as a formula."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header())
    for number, r in enumerate(responses, start=1):
        writer.writerow([number, *(_inert(c) for c in _cells(r, phones))])
    return out.getvalue()


def _summary_rows(report: dict[str, Any]) -> list[tuple[str, list[Any]]]:
    """The block under the respondents: sum, NRR, NRR x 25, weighted NRR per unsur, IKM."""
    unsur = report["unsur"]
    return [
        ("Jumlah nilai per unsur", [u["score_sum"] for u in unsur]),
        ("Jumlah responden menjawab", [u["answered"] for u in unsur]),
        ("NRR per unsur", [u["nrr_display"] for u in unsur]),
        ("NRR x 25", [u["konversi"] for u in unsur]),
        ("NRR tertimbang (x 1/9)", [u["nrr_tertimbang_display"] for u in unsur]),
        ("Mutu per unsur", [u["mutu"] for u in unsur]),
    ]


def office_workbook(
    responses: Sequence[Response], report: dict[str, Any], *, title: str, phones: bool
) -> bytes:
    """The workbook offices hand in: respondents with U1..U9, then the IKM block under them."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "SKM"
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([f"Periode {report['from']} s.d. {report['to']}; {report['responses']} responden"])
    sheet.append(header())
    first_score = 1 + 1 + len(PROFILE_COLUMNS)  # 1-based column of U1
    for number, r in enumerate(responses, start=1):
        sheet.append([number, *_cells(r, phones)])
        for cell in sheet[sheet.max_row]:
            if cell.data_type == "f":  # respondents' text is never a formula
                cell.data_type = "s"
    sheet.append([])
    pad = [None] * (first_score - 3)
    for label, values in _summary_rows(report):
        sheet.append([None, label, *pad, *_numbers(values)])
    headline = report["headline"]
    for label, value in (
        ("IKM (nilai interval)", report["ikm_display"] or report["partial_ikm_display"]),
        ("Konversi IKM (x 25)", report["konversi_display"] or report["partial_konversi_display"]),
        ("Mutu pelayanan", report["mutu"] or "-"),
        ("Kinerja unit pelayanan", report["kinerja"] or "-"),
        ("Keterangan", headline.get("label") or headline.get("message")),
    ):
        sheet.append([None, label, *pad, _number(value)])
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _number(value: Any) -> Any:
    """Numbers as numbers in the sheet (offices sum them), text as text."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _numbers(values: list[Any]) -> list[Any]:
    return [_number(v) for v in values]
