"""Topic rules (pure): which Adminduk topic a message is about, and whether it asks for
requirements. Keyword rules cover Indonesian and Javanese (ngoko and some krama)."""

from __future__ import annotations

import re
import unicodedata

TOPICS = ("KK", "KTP", "Akta", "KIA", "Pindah", "IKD", "Lainnya")
MENTOR_WORD = "mentor"

# Order matters: the first topic whose keyword appears wins (KIA before KTP: "kartu anak").
_TOPIC_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("IKD", ("ikd", "identitas kependudukan digital", "ktp digital", "aplikasi identitas")),
    ("KIA", ("kia", "kartu identitas anak", "kartu anak")),
    ("Akta", ("akta", "akte", "kelahiran", "kematian", "lahir", "lair", "meninggal", "seda")),
    ("Pindah", ("pindah", "mutasi", "skpwni", "domisili", "boyongan", "ngalih", "pindahan")),
    ("KK", ("kk", "kartu keluarga", "kartu kulawarga", "pecah kk", "kk baru")),
    ("KTP", ("ktp", "ektp", "e ktp", "ktp el", "kartu tanda penduduk", "perekaman", "rekam")),
    (
        "Lainnya",
        (
            "adminduk",
            "dukcapil",
            "capil",
            "kependudukan",
            "nik",
            "sktm",
            "dispensasi nikah",
            "surat keterangan",
            "kecamatan",
            "data penduduk",
        ),
    ),
)
_REQUIREMENT_PHRASES = (
    "syarat",
    "syaratnya",
    "persyaratan",
    "syarate",
    "sarate",
    "bawa apa",
    "membawa apa",
    "bawa apa saja",
    "berkas",
    "dokumen apa",
    "apa saja yang",
    "perlu apa",
    "butuh apa",
    "cara membuat",
    "cara bikin",
    "cara ngurus",
    "cara mengurus",
    "bagaimana cara",
    "gimana cara",
    "gowo opo",
    "nggowo opo",
    "nggawa apa",
    "gawa apa",
    "opo wae",
    "apa wae",
    "piye carane",
    "pripun carane",
    "carane",
    "kudu nggowo",
    "butuh opo",
    "perlu opo",
)
_NOT_WORD = re.compile(r"[^a-z0-9]+")


def words(text: str) -> str:
    """Lower-case words separated by single spaces, padded, for whole-word matching."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return f" {_NOT_WORD.sub(' ', folded).strip()} "


def _has(padded: str, phrase: str) -> bool:
    return f" {phrase} " in padded


def detect_topic(text: str) -> str | None:
    """Returns the catalogue topic a message is about, or None when it is not Adminduk."""
    padded = words(text)
    for topic, keywords in _TOPIC_KEYWORDS:
        if any(_has(padded, k) for k in keywords):
            return topic
    return None


def asks_requirements(text: str) -> bool:
    """Tells whether a message asks what to bring or how to apply."""
    padded = words(text)
    return any(_has(padded, p) for p in _REQUIREMENT_PHRASES) or " syarat" in padded


def wants_mentor(text: str) -> bool:
    """Tells whether the citizen asks for a mentor (replied MENTOR)."""
    return words(text).strip() in (MENTOR_WORD, f"{MENTOR_WORD} please", f"minta {MENTOR_WORD}")


def rating(text: str) -> int | None:
    """Returns a 1-5 rating when the message is just that number."""
    stripped = text.strip().rstrip(".!")
    return int(stripped) if stripped in {"1", "2", "3", "4", "5"} else None
