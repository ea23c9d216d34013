"""Pure rules of the read model: what an event counts for, what of it may be kept, labels."""

from __future__ import annotations

import hashlib
from typing import Any

from shared.contracts import Event
from shared.privacy import mask_phone

# Event type -> business counter. Types not here are still journaled and counted per type.
COUNTERS = {
    "registration.participant_registered": "registrations",
    "registration.participant_checked_in": "checkins",
    "registration.participant_cancelled": "cancellations",
    "certificates.certificate_issued": "certificates_issued",
    "certificates.certificate_revoked": "certificates_revoked",
    "consultation.invitation_sent": "invitations_sent",
    "consultation.invitation_delivered": "invitations_delivered",
    "consultation.invitation_clicked": "invitations_clicked",
    "survey.response_submitted": "survey_responses",
}
BUSINESS_METRICS = tuple(dict.fromkeys(COUNTERS.values()))
ENVELOPE = {"event_id", "type", "version", "occurred_at", "tenant", "source", "correlation_id"}
# Never kept in the read model: personal data and free text people wrote.
PERSONAL = {"name", "phone", "school", "nik", "text", "body", "message", "suggestion", "email"}
UNSPECIFIED = "(tidak diisi)"
# Steps a journey is expected to reach, with their labels (checked for "not yet").
EXPECTED_STEPS = {
    "certificates.certificate_issued": "sertifikat terbit",
    "consultation.invitation_sent": "undangan WhatsApp terkirim",
}
LABELS = {
    "registration.participant_registered": "terdaftar",
    "registration.participant_checked_in": "hadir (check-in)",
    "registration.participant_cancelled": "pendaftaran dibatalkan",
    "certificates.certificate_issued": "sertifikat terbit",
    "certificates.certificate_revoked": "sertifikat dicabut",
    "consultation.invitation_sent": "undangan WhatsApp terkirim",
    "consultation.invitation_delivered": "undangan WhatsApp diterima",
    "consultation.invitation_clicked": "tautan undangan diklik",
    "survey.response_submitted": "survei diisi",
    "survey.ticket_opened": "saran/kritik masuk",
    "survey.ticket_replied": "saran/kritik ditanggapi",
    "survey.ticket_closed": "saran/kritik selesai",
}
OPENS = ("_opened", "_assigned", "_filed", "_created", "_received")
CLOSES = ("_closed", "_resolved")
# An answer that leaves the item open but records its first-response time (a ticket replied to
# without closing it); a reply that closes carries `closed: true`.
ANSWERS = ("_replied", "_answered")
# Which id makes an event an item of which kind: the survey's saran/kritik tickets are the
# programme's complaints (TicketOpenedV1, TicketRepliedV1, TicketClosedV1).
ITEM_KEYS = (
    ("complaint", "complaint_id"),
    ("complaint", "ticket_id"),
    ("consultation", "conversation_id"),
)


def phone_key(tenant: str, phone: str) -> str:
    """A lookup key for a phone (the read model never stores the number itself)."""
    return hashlib.sha256(f"menjamu-phone:{tenant}:{phone}".encode()).hexdigest()


def summarize(event: Event) -> dict[str, Any]:
    """The event's payload without envelope and personal data (a masked phone is kept)."""
    data = event.model_dump(mode="json")
    summary = {k: v for k, v in data.items() if k not in ENVELOPE and k not in PERSONAL}
    if isinstance(data.get("phone"), str):
        summary["phone_masked"] = mask_phone(data["phone"])
    return summary


def counts_for(event: Event) -> list[tuple[str, str, int]]:
    """(metric, dimension, amount) the event adds to its tenant's day."""
    counts = [("events", event.type, 1)]
    metric = COUNTERS.get(event.type)
    if metric:
        counts.append((metric, "", 1))
    data = event.model_dump(mode="json")
    if metric == "registrations":
        counts.append(("registrations.desa", str(data.get("desa") or UNSPECIFIED), 1))
        counts.append(("registrations.level", str(data.get("level") or UNSPECIFIED), 1))
    if metric == "survey_responses":
        for unsur, score in (data.get("scores") or {}).items():
            if isinstance(score, int):
                counts.append(("ikm.sum", unsur, score))
                counts.append(("ikm.answered", unsur, 1))
    return counts


def open_item_change(event: Event) -> tuple[str, str, str] | None:
    """(kind, item id, 'open', 'answer' or 'close') when the event changes a queue item."""
    data = event.model_dump(mode="json")
    for kind, key in ITEM_KEYS:
        if data.get(key):
            if event.type.endswith(OPENS):
                return kind, str(data[key]), "open"
            if event.type.endswith(CLOSES) or (event.type.endswith(ANSWERS) and data.get("closed")):
                return kind, str(data[key]), "close"
            if event.type.endswith(ANSWERS):
                return kind, str(data[key]), "answer"
    return None


def first_response_seconds(event: Event) -> int | None:
    """A first-response time the consultation service published, when the event carries one."""
    value = event.model_dump().get("first_response_s")
    return int(value) if isinstance(value, int | float) else None


def step_label(event_type: str, summary: dict[str, Any]) -> str:
    """Bahasa Indonesia label of one journey step, with its key facts."""
    label = LABELS.get(event_type, event_type)
    if event_type == "registration.participant_registered":
        facts = [summary.get("level"), summary.get("desa"), summary.get("activity_title")]
        return f"{label} ({', '.join(str(f) for f in facts if f)})"
    if summary.get("number"):
        return f"{label} nomor {summary['number']}"
    if summary.get("gateway"):
        return f"{label} (gateway {summary['gateway']})"
    if event_type == "survey.response_submitted" and summary.get("guide_registration_id"):
        return f"{label} oleh warga yang dipandu (unit {summary.get('unit')})"
    if summary.get("unit"):
        return f"{label} (unit {summary['unit']})"
    return label


def ikm_konversi(sums: dict[str, int], answered: dict[str, int]) -> float | None:
    """Indicative IKM (25..100): mean of the unsur NRR x 25; the survey's report is exact."""
    nrrs = [sums[u] / answered[u] for u in answered if answered[u]]
    if not nrrs:
        return None
    return round(sum(nrrs) / len(nrrs) * 25, 2)
