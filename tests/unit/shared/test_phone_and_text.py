"""Phones through phonenumbers, and the cleaning of names people type."""

from __future__ import annotations

import pytest

from shared.phone import normalize_phone
from shared.text import clean_name, clean_text


@pytest.mark.parametrize(
    ("raw", "hint"),
    [
        ("0812３4567890", "hanya boleh berisi angka 0-9"),  # full-width digit
        ("٠٨١٢٣٤٥٦٧٨٩٠", "hanya boleh berisi angka 0-9"),  # Arabic-Indic digits
        ("۰۸۱۲۳۴۵۶۷۸۹۰", "hanya boleh berisi angka 0-9"),  # extended Arabic-Indic
        ("+6591234567", "seluler Indonesia"),  # a Singapore mobile
        ("0312345678", "seluler Indonesia"),  # a Surabaya landline
        ("0899999999999999", "panjangnya"),
        ("0800123456", "bukan nomor seluler Indonesia yang valid"),  # no such mobile range
    ],
)
def test_numbers_that_are_not_indonesian_mobiles_are_refused(raw: str, hint: str) -> None:
    with pytest.raises(ValueError, match=hint):
        normalize_phone(raw)


@pytest.mark.parametrize("raw", ["085733871047", "+62 857-3387-1047", "6285733871047"])
def test_valid_mobiles_come_back_in_e164(raw: str) -> None:
    assert normalize_phone(raw) == "+6285733871047"


def test_text_is_nfc_without_controls_or_format_characters() -> None:
    assert clean_text("Jose\u0301\tMari\u200ba\u202e  ") == "José Maria"
    assert clean_text("a\u00a0\u2028b") == "a b"


@pytest.mark.parametrize("name", ["\u200b\u200b", "\u202eA", "\x00\x07", "12", "--"])
def test_names_need_two_visible_letters(name: str) -> None:
    with pytest.raises(ValueError, match="paling sedikit 2 huruf"):
        clean_name(name)


def test_names_in_any_script_pass() -> None:
    assert clean_name("Nur") == "Nur"
    assert clean_name("  ꦲꦪꦸ  ") == "ꦲꦪꦸ"
