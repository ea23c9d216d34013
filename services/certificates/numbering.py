"""Pure rules for certificate numbers and download file names (no I/O)."""

from __future__ import annotations

import re

_UNSAFE = re.compile(r"[^A-Za-z0-9._]+")  # dashes too, so runs collapse to one


def format_number(sequence: int, *, code: str, tenant_code: str, year: int) -> str:
    """Prints a number: (1, SERT-MENJAMU, mojosari, 2026) -> 0001/SERT-MENJAMU/MOJOSARI/2026."""
    if sequence < 1:
        raise ValueError("sequence starts at 1")
    return f"{sequence:04d}/{code}/{tenant_code.upper()}/{year}"


def pdf_filename(number: str) -> str:
    """Download name of a certificate: sertifikat-0001-SERT-MENJAMU-MOJOSARI-2026.pdf."""
    return f"sertifikat-{_UNSAFE.sub('-', number).strip('-')}.pdf"
