"""Indonesian mobile numbers: normalisation to E.164 (+62...)."""

from __future__ import annotations

import re

_ALLOWED = re.compile(r"^\+?[\d\s().-]+$")


def normalize_phone(raw: str) -> str:
    """Returns an Indonesian mobile number as +62..., or raises ValueError (Indonesian text
    that follows the field label, e.g. "Nomor HP " + message).

    Accepts 0812-3456-7890, 62812..., +62 812..., 812...; the number must be a mobile (8xx)
    with 9 to 13 digits after the country code.
    """
    text = raw.strip()
    if not text or not _ALLOWED.match(text):
        raise ValueError("hanya boleh berisi angka, spasi, tanda +, - atau kurung.")
    digits = re.sub(r"\D", "", text)
    if digits.startswith("62"):
        national = digits[2:]
    elif digits.startswith("0"):
        national = digits[1:]
    else:
        national = digits
    if not national.startswith("8"):
        raise ValueError("harus nomor seluler Indonesia (diawali 08 atau +628).")
    if not 9 <= len(national) <= 13:
        raise ValueError("panjangnya tidak sesuai (contoh yang benar: 081234567890).")
    return f"+62{national}"
