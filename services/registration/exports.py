"""Participant lists as CSV and XLSX, and the per-desa summary by jenjang (no I/O)."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook

from services.registration.models import Activity, Registration, RegistrationStatus
from shared.privacy import mask_phone

COLUMNS = (
    "kode",
    "nama",
    "asal_sekolah",
    "jenjang",
    "desa",
    "nomor_hp",
    "status",
    "urutan_tunggu",
    "hadir",
    "sertifikat",
    "waktu_daftar",
)
_STATUS_ID = {"registered": "terdaftar", "waitlisted": "daftar tunggu", "cancelled": "dibatalkan"}


def rows(registrations: Iterable[Registration], *, show_phone: bool) -> list[list[Any]]:
    """One list of cells per registration, phones masked unless asked."""
    return [
        [
            r.code,
            r.name,
            r.school,
            r.level,
            r.desa or "",
            r.phone if show_phone else mask_phone(r.phone),
            _STATUS_ID.get(r.status, r.status),
            r.waitlist_position or "",
            "ya" if r.checked_in_at else "",
            "ya" if r.certificate_issued_at else "",
            r.created_at.isoformat(),
        ]
        for r in registrations
    ]


def _safe(cell: Any) -> Any:
    # A cell starting with = + - @ runs as a formula in a spreadsheet: quote it.
    if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@") and not cell[1:2].isdigit():
        return "'" + cell
    return cell


def to_csv(table: Sequence[Sequence[Any]]) -> bytes:
    """CSV with a header, UTF-8 with BOM so spreadsheet programs read the accents."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows([[_safe(c) for c in row] for row in table])
    return ("\ufeff" + out.getvalue()).encode()


def to_xlsx(table: Sequence[Sequence[Any]], title: str) -> bytes:
    """An XLSX workbook with one sheet."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31] or "Peserta"
    sheet.append(list(COLUMNS))
    for row in table:
        sheet.append([_safe(c) for c in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def desa_summary(
    pairs: Iterable[tuple[Registration, Activity]], levels: Sequence[str]
) -> list[dict[str, Any]]:
    """Per desa and jenjang: registered, waitlisted, attended, certificates issued and due."""
    table: dict[tuple[str, str], dict[str, int]] = defaultdict(
        lambda: {
            "registrations": 0,
            "waitlisted": 0,
            "attendance": 0,
            "certificates": 0,
            "certificates_due": 0,
        }
    )
    for registration, activity in pairs:
        cell = table[(registration.desa or "(tidak diisi)", registration.level)]
        if registration.status == RegistrationStatus.WAITLISTED:
            cell["waitlisted"] += 1
        if registration.status != RegistrationStatus.REGISTERED:
            continue
        cell["registrations"] += 1
        attended = registration.checked_in_at is not None
        cell["attendance"] += int(attended)
        on_check_in = activity.certificate_policy == "on_check_in"
        cell["certificates_due"] += int(attended or not on_check_in)
        cell["certificates"] += int(registration.certificate_issued_at is not None)
    order = {level: i for i, level in enumerate(levels)}
    keys = sorted(table, key=lambda k: (k[0], order.get(k[1], len(order)), k[1]))
    return [{"desa": d, "jenjang": j, **table[(d, j)]} for d, j in keys]
