"""Moderation rules (pure): per-tenant word lists against the usual obfuscations.

Texts and list entries are normalised the same way: lower case, compatibility forms folded,
digits and symbols read as the letters they imitate (k4f1r), repeated letters collapsed
(kaaafiiir), and runs of single letters joined (k a f i r, k.a.f.i.r). Phrases match on whole
words of the normalised text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

CATEGORIES = ("sara", "hoaks", "pornografi")
_LEET = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "3": "e",
        "4": "a",
        "5": "s",
        "6": "g",
        "7": "t",
        "8": "b",
        "9": "g",
        "@": "a",
        "$": "s",
        "€": "e",
    }
)
_NOT_LETTER = re.compile(r"[^a-z]+")
_REPEATS = re.compile(r"([a-z])\1+")


def normalise(text: str) -> str:
    """Folds a text to plain lower-case words, undoing common obfuscations."""
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(c for c in folded if not unicodedata.combining(c)).translate(_LEET)
    words = _NOT_LETTER.sub(" ", folded).split()
    joined: list[str] = []
    run: list[str] = []
    for word in words:  # "k a f i r" -> "kafir"
        if len(word) == 1:
            run.append(word)
            continue
        if run:
            joined.append("".join(run))
            run = []
        joined.append(word)
    if run:
        joined.append("".join(run))
    return " ".join(_REPEATS.sub(r"\1", w) for w in joined)


@dataclass(frozen=True)
class WordLists:
    """A tenant's normalised phrases per category."""

    phrases: Mapping[str, tuple[str, ...]]

    @classmethod
    def from_config(cls, config: Mapping[str, Sequence[str]] | None) -> WordLists:
        """Builds the lists from the tenant file's `consultation.moderation` section."""
        phrases: dict[str, tuple[str, ...]] = {}
        for category in CATEGORIES:
            entries = (config or {}).get(category) or ()
            phrases[category] = tuple(p for p in (normalise(e) for e in entries) if p)
        return cls(phrases=phrases)

    @property
    def empty(self) -> bool:
        """Tells whether no category has any phrase."""
        return not any(self.phrases.values())


def moderate(text: str, lists: WordLists) -> str | None:
    """Returns the category a text breaks (sara, hoaks, pornografi), or None when clean."""
    padded = f" {normalise(text)} "
    squashed = padded.replace(" ", "")
    for category in CATEGORIES:
        for phrase in lists.phrases.get(category, ()):
            if f" {phrase} " in padded:
                return category
            # Words split by spaces inside ("ka fir"): long phrases also match squashed text.
            if len(phrase.replace(" ", "")) >= 6 and phrase.replace(" ", "") in squashed:
                return category
    return None


def refusal_text(category: str, rule_lines: Sequence[str]) -> str:
    """The polite refusal, quoting the group's rules."""
    what = {"sara": "SARA", "hoaks": "hoaks", "pornografi": "pornografi"}.get(category, category)
    lines = [
        f"Mohon maaf, pesan Anda tidak dapat kami proses karena memuat unsur {what}.",
        "Aturan konsultasi:",
        *(f"- {rule}" for rule in rule_lines),
        "Silakan kirim kembali pertanyaan Adminduk Anda dengan bahasa yang santun. Terima kasih.",
    ]
    return "\n".join(lines)


REPEAT_OFFENDER_AFTER = 3
