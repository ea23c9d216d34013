"""Text people type: Unicode normalisation, invisible characters out, names that can be read."""

from __future__ import annotations

import re
import unicodedata

# Control (Cc), format (Cf: zero-width, RTL/LTR overrides, BOM), surrogates, private use and
# unassigned code points never belong in a name printed on a certificate.
_DROPPED = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_SPACES = re.compile(r"\s+")


def clean_text(value: str) -> str:
    """Returns text in NFC with control and format characters removed and spaces collapsed."""
    normalized = unicodedata.normalize("NFC", value)
    kept = []
    for char in normalized:
        category = unicodedata.category(char)
        if char in "\t\n\r" or category in ("Zs", "Zl", "Zp"):
            kept.append(" ")
        elif category not in _DROPPED:
            kept.append(char)
    return _SPACES.sub(" ", "".join(kept)).strip()


def visible_letters(value: str) -> int:
    """Counts the letters (Unicode category L*) in a text."""
    return sum(1 for char in value if unicodedata.category(char).startswith("L"))


def clean_name(value: str, *, min_letters: int = 2) -> str:
    """Returns a cleaned person's name, or raises ValueError (Indonesian, follows the label)."""
    cleaned = clean_text(value)
    if visible_letters(cleaned) < min_letters:
        raise ValueError(f"harus berisi paling sedikit {min_letters} huruf yang terlihat.")
    return cleaned
