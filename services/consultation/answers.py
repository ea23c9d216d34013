"""Automatic answers (pure): requirement checklists, office hours and address from the
tenant file, and the short texts citizens receive along the way."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from services.consultation.topics import words

_DAYS = (
    ("monday", "Senin"),
    ("tuesday", "Selasa"),
    ("wednesday", "Rabu"),
    ("thursday", "Kamis"),
    ("friday", "Jumat"),
    ("saturday", "Sabtu"),
    ("sunday", "Minggu"),
)
# Requirement topics in the tenant file -> catalogue topics.
_TOPIC_OF = {"Akta Kelahiran": "Akta", "Akta Kematian": "Akta"}
# Words that pick one procedure within a topic (Javanese forms map to the same procedure).
_HINTS: Mapping[str, tuple[str, ...]] = {
    "kk-pecah": ("pecah", "baru", "misah", "pisah"),
    "kk-hilang": ("hilang", "ilang", "kehilangan"),
    "ktp-rusak": ("rusak", "rusak", "sobek", "patah"),
    "ktp-hilang": ("hilang", "ilang", "kehilangan"),
    "ktp-pemula": ("pemula", "rekam", "perekaman", "17", "pertama"),
    "akta-lahir-baru": ("lahir", "kelahiran", "lair", "bayi"),
    "akta-kematian-baru": ("kematian", "mati", "meninggal", "seda", "wafat", "tilar"),
    "pindah-masuk": ("masuk", "datang", "dari luar"),
    "pindah-keluar": ("keluar", "ke luar", "metu"),
    "pindah-antar-dusun": ("dusun", "rt", "rw", "antar"),
}


@dataclass(frozen=True)
class Requirement:
    """One procedure's checklist from the tenant file."""

    id: str
    topic: str
    title: str
    documents: tuple[str, ...]


def requirements(raw: Mapping[str, Any]) -> list[Requirement]:
    """Reads the tenant file's `requirements:` list."""
    result = []
    for item in raw.get("requirements") or ():
        topic = str(item.get("topic", ""))
        result.append(
            Requirement(
                id=str(item.get("id", "")),
                topic=_TOPIC_OF.get(topic, topic),
                title=str(item.get("title", "")),
                documents=tuple(str(d) for d in item.get("documents") or ()),
            )
        )
    return result


def pick_requirements(text: str, topic: str, catalogue: Sequence[Requirement]) -> list[Requirement]:
    """The procedures a question is about: the one its words point to, else all of the topic."""
    of_topic = [r for r in catalogue if r.topic == topic]
    padded = words(text)
    scored = [(sum(f" {h} " in padded for h in _HINTS.get(r.id, ())), r) for r in of_topic]
    best = max((score for score, _ in scored), default=0)
    if best > 0:
        return [r for score, r in scored if score == best]
    return of_topic


def office_hours_text(raw: Mapping[str, Any]) -> str:
    """Office hours from the tenant file, e.g. 'Senin 08:00-16:00, ..., Sabtu libur'."""
    hours = (raw.get("tenant") or {}).get("office_hours") or {}
    parts = []
    for key, label in _DAYS:
        slot = hours.get(key)
        parts.append(f"{label} {slot[0]}-{slot[1]}" if slot else f"{label} libur")
    return ", ".join(parts)


def requirement_answer(
    chosen: Sequence[Requirement], *, raw: Mapping[str, Any], tenant_name: str, address: str
) -> str:
    """The automatic answer: checklists, office hours, address, and the offer of a mentor."""
    lines: list[str] = []
    for requirement in chosen:
        lines.append(f"Persyaratan {requirement.title}:")
        lines += [f"{i}. {doc}" for i, doc in enumerate(requirement.documents, start=1)]
        lines.append("")
    lines.append(f"Jam layanan {tenant_name}: {office_hours_text(raw)} (waktu setempat).")
    if address:
        lines.append(f"Alamat: {address}")
    lines.append("Layanan Adminduk gratis.")
    lines.append("Masih ada pertanyaan? Balas MENTOR untuk dihubungkan dengan mentor.")
    return "\n".join(lines)


OFF_TOPIC = (
    "Halo! Kanal ini khusus konsultasi administrasi kependudukan (Adminduk): KK, KTP-el, akta, "
    'KIA, pindah domisili dan IKD. Tulis pertanyaan Anda, misalnya "syarat pecah KK apa '
    'saja?", atau balas MENTOR untuk bicara dengan mentor.'
)


def queued_text(position: int) -> str:
    """Tells a citizen their place in the queue."""
    return (
        "Semua mentor sedang melayani warga lain. Anda berada di antrean nomor "
        f"{position}. Mentor akan segera membalas; mohon tidak mengirim ulang pesan."
    )


def assigned_text(mentor_name: str) -> str:
    """Tells a citizen which mentor will answer."""
    return f"Pertanyaan Anda diteruskan kepada mentor {mentor_name}. Mohon tunggu balasannya."


def reassigned_text(mentor_name: str) -> str:
    """Tells a citizen their conversation moved to another mentor."""
    return (
        "Mohon maaf menunggu. Pertanyaan Anda kini ditangani mentor "
        f"{mentor_name}, yang akan segera membalas."
    )


def mentor_notice(topic: str, *, reassigned: bool) -> str:
    """Tells a mentor a conversation is waiting in the inbox (no citizen data)."""
    what = "dialihkan kepada Anda" if reassigned else "baru"
    return f"Ada konsultasi {what} (topik {topic}). Buka kotak masuk mentor untuk membalas."


def taken_away_notice(topic: str) -> str:
    """Tells a mentor a conversation was reassigned because it waited too long."""
    return (
        f"Konsultasi (topik {topic}) dialihkan ke mentor lain karena belum dibalas "
        "dalam batas waktu layanan."
    )


RATING_QUESTION = (
    "Konsultasi Anda telah selesai. Bagaimana penilaian Anda terhadap layanan mentor? "
    "Balas dengan angka 1 (sangat buruk) sampai 5 (sangat baik)."
)
RATING_THANKS = "Terima kasih atas penilaian Anda."
