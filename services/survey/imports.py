"""Bulk import of paper forms from CSV or XLSX: every row whole or not at all (pure, no I/O)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from services.survey.schemas import PaperResponseCreate
from shared.http_errors import describe_validation

CODES = [f"U{i}" for i in range(1, 10)]
# Column -> field of PaperResponseCreate; the order is the template's.
COLUMNS: dict[str, str] = {
    "tanggal": "submitted_at",
    **{c: c for c in CODES},
    "jenis_layanan": "service_type",
    "jenis_kelamin": "gender",
    "usia": "age",
    "pendidikan": "education",
    "pekerjaan": "occupation",
    "saran": "suggestion",
    "nama": "name",
    "no_hp": "phone",
    "bersedia_dihubungi": "phone_consent",
    "kode_pemandu": "guide_code",
}
FIELD_TO_COLUMN = {v: k for k, v in COLUMNS.items()}
MAX_ROWS = 5000
EXAMPLE_ROW = ["2025-03-10", 4, 3, 3, 4, 3, 3, 4, "", 3, "KTP-el", "P", 34, "SMA", "Swasta",
               "Antrean sudah cepat", "", "", "tidak", ""]  # fmt: skip
YES = {"ya", "y", "1", "true", "benar"}
NO = {"tidak", "t", "0", "false", "salah", ""}


@dataclass
class RowProblem:
    """Why one row was not imported: its row number in the file, the column and the reason."""

    row: int
    column: str
    message: str


@dataclass
class ParsedFile:
    """The good rows (with their row numbers) and the problems of the bad ones."""

    rows: list[tuple[int, PaperResponseCreate]] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


class ImportFileError(ValueError):
    """The file as a whole cannot be read (format, header, size); message in Indonesian."""


def read_table(filename: str, content: bytes) -> list[list[Any]]:
    """Reads the cells of a CSV (UTF-8, comma or semicolon) or XLSX file, header first."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        return _read_xlsx(content)
    if name.endswith(".csv"):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ImportFileError("Berkas CSV harus berkode UTF-8.") from None
        dialect = "excel-tab" if "\t" in text[:1000] else None
        delimiter = ";" if text[:1000].count(";") > text[:1000].count(",") else ","
        reader = csv.reader(io.StringIO(text), dialect or "excel", delimiter=delimiter)
        return [row for row in reader]
    raise ImportFileError("Jenis berkas tidak didukung: unggah .csv atau .xlsx.")


def _read_xlsx(content: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:
        raise ImportFileError("Berkas XLSX tidak dapat dibaca.") from None
    try:
        sheet = book.worksheets[0]
        rows: list[list[Any]] = []
        for row in sheet.iter_rows(values_only=True):
            if len(rows) > MAX_ROWS:
                break
            rows.append(list(row))
        return rows
    finally:
        book.close()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _moment(value: str, timezone: str) -> datetime | str:
    """A date alone means noon of that local day; a time needs its offset (checked later)."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return value
    return datetime.combine(day, time(12), tzinfo=ZoneInfo(timezone))


def _body(cells: dict[str, str], timezone: str) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Turns one row's text cells into the JSON body of a paper form, typing each field."""
    body: dict[str, Any] = {"scores": {}}
    problems: list[tuple[str, str]] = []
    for column, name in COLUMNS.items():
        value = cells.get(column, "")
        if name in CODES:
            if value == "":
                body["scores"][name] = None
            elif value.isdigit() and value.isascii():
                body["scores"][name] = int(value)
            else:
                problems.append((column, "harus angka 1 sampai 4 atau dikosongkan."))
        elif name == "age" and value:
            if value.isdigit() and value.isascii():
                body["age"] = int(value)
            else:
                problems.append((column, "harus berupa angka bulat."))
        elif name == "phone_consent":
            if value.lower() not in YES | NO:
                problems.append((column, "isi 'ya' atau 'tidak'."))
            body["phone_consent"] = value.lower() in YES
        elif name == "submitted_at" and value:
            moment = _moment(value, timezone)
            body[name] = moment.isoformat() if isinstance(moment, datetime) else moment
        elif value:
            body[name] = value
    return body, problems


def _errors(exc: ValidationError) -> list[tuple[str, str]]:
    """(column, reason in Indonesian) for each field the paper form refused."""
    found = []
    for item in describe_validation(list(exc.errors())):  # type: ignore[arg-type]
        name = item["field"].removeprefix("scores.")
        column = "U1..U9" if name == "scores" else FIELD_TO_COLUMN.get(name, name)
        found.append((column, item["message"]))
    return found


def parse_rows(table: list[list[Any]], timezone: str) -> ParsedFile:
    """Validates every row against the paper form; a row with any problem is not imported."""
    if not table:
        raise ImportFileError("Berkas kosong: baris pertama harus judul kolom (lihat templat).")
    header = [_cell_text(h).lower() for h in table[0]]
    missing = [c for c in CODES if c.lower() not in header]
    if missing:
        raise ImportFileError(
            f"Kolom {', '.join(missing)} tidak ada di baris judul (lihat templat)."
        )
    if len(table) - 1 > MAX_ROWS:
        raise ImportFileError(f"Paling banyak {MAX_ROWS} baris per berkas; bagi berkasnya.")
    names = {h.upper() if h.upper() in CODES else h: i for i, h in enumerate(header)}
    parsed = ParsedFile()
    for number, row in enumerate(table[1:], start=2):
        cells = {c: _cell_text(row[i]) if i < len(row) else "" for c, i in names.items()}
        if not any(cells.values()):
            continue  # an empty line is not a form
        body, problems = _body(cells, timezone)
        try:
            data = PaperResponseCreate.model_validate(body)
        except ValidationError as exc:
            # Cells refused while typing them are absent from the body: no double report.
            problems += [p for p in _errors(exc) if p[0] not in {c for c, _ in problems}]
        if not problems:
            parsed.rows.append((number, data))
            continue
        parsed.problems += [RowProblem(number, col, msg) for col, msg in problems]
    return parsed


def template_csv() -> str:
    """The import template as CSV: the header and one example row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(list(COLUMNS))
    writer.writerow(EXAMPLE_ROW)
    return out.getvalue()


def template_xlsx() -> bytes:
    """The import template as XLSX: the header and one example row."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "SKM"
    sheet.append(list(COLUMNS))
    sheet.append(EXAMPLE_ROW)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
