"""Indonesian mobile numbers: parsing and validation with `phonenumbers`, stored as E.164."""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

# ASCII digits only: phonenumbers would quietly read full-width or Arabic-Indic digits, and a
# number typed that way is far more likely a trick than a student's phone keyboard.
_ALLOWED = re.compile(r"^\+?[0-9 ().-]+$", re.ASCII)
_MOBILE = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
_WRONG_LENGTH = {
    phonenumbers.ValidationResult.TOO_SHORT,
    phonenumbers.ValidationResult.TOO_LONG,
    phonenumbers.ValidationResult.INVALID_LENGTH,
}


def _candidate(text: str) -> str:
    """Turns the accepted spellings (08.., 628.., +628.., 8..) into one phonenumbers input."""
    digits = re.sub(r"[^0-9]", "", text)
    if text.startswith("+") or digits.startswith("62"):
        return "+" + digits
    return digits if digits.startswith("0") else "0" + digits


def normalize_phone(raw: str) -> str:
    """Returns an Indonesian mobile number in E.164 (+628...), or raises ValueError.

    The message is Indonesian text that follows the field label ("Nomor HP " + message).
    """
    text = raw.strip()
    if not text or not _ALLOWED.match(text):
        raise ValueError("hanya boleh berisi angka 0-9, spasi, tanda +, - atau kurung.")
    try:
        number = phonenumbers.parse(_candidate(text), "ID")
    except NumberParseException as exc:
        raise ValueError("bukan nomor telepon yang valid (contoh: 081234567890).") from exc
    if number.country_code != 62 or not str(number.national_number).startswith("8"):
        raise ValueError("harus nomor seluler Indonesia (diawali 08 atau +628).")
    national = str(number.national_number)
    if (
        not 9 <= len(national) <= 12
        or phonenumbers.is_possible_number_with_reason(number) in _WRONG_LENGTH
    ):
        raise ValueError("panjangnya tidak sesuai (contoh yang benar: 081234567890).")
    if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in _MOBILE:
        raise ValueError("bukan nomor seluler Indonesia yang valid (contoh: 081234567890).")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)
