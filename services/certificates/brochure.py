"""What the brochure and the sticker print, read from the tenant file (no I/O, no rendering).

The brochure (A5, printable) lists the services (all free), each procedure's documents, the
office hours, address, call centre and social accounts, the motto and the values; the sticker
carries a QR code that opens a WhatsApp chat with the consultation number (wa.me link).
"""

from __future__ import annotations

import re
from typing import Any

from shared.tenants import Tenant

DAYS_ID = {
    "monday": "Senin",
    "tuesday": "Selasa",
    "wednesday": "Rabu",
    "thursday": "Kamis",
    "friday": "Jumat",
    "saturday": "Sabtu",
    "sunday": "Minggu",
}
SOCIAL_LABELS = {
    "instagram": "Instagram",
    "facebook": "Facebook",
    "twitter": "Twitter/X",
    "website": "Situs web",
    "youtube": "YouTube",
    "tiktok": "TikTok",
}


def wa_me_url(number: str) -> str:
    """The wa.me link of a phone number ('+62 859-3387' -> https://wa.me/628593387)."""
    digits = re.sub(r"\D", "", number)
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    return f"https://wa.me/{digits}"


def office_hours(facts: dict[str, Any]) -> list[tuple[str, str]]:
    """('Senin', '08:00 - 16:00 WIB') per day; a day without hours is 'Libur'."""
    hours = facts.get("office_hours") or {}
    rows = []
    for day, label in DAYS_ID.items():
        if day not in hours:
            continue
        span = hours[day]
        rows.append((label, f"{span[0]} - {span[1]}" if span else "Libur"))
    return rows


def brochure_context(tenant: Tenant) -> dict[str, Any]:
    """Everything the brochure prints, from `deploy/tenants/<code>.yaml`."""
    raw = tenant.raw
    facts: dict[str, Any] = raw.get("tenant") or {}
    values = facts.get("values") or {}
    social = facts.get("social") or {}
    return {
        "tenant_name": tenant.name,
        "kabupaten": tenant.kabupaten,
        "programme": tenant.programme,
        "services": list(raw.get("services") or []),
        "requirements": [
            {"title": r.get("title", ""), "documents": list(r.get("documents") or [])}
            for r in raw.get("requirements") or []
        ],
        "office_hours": office_hours(facts),
        "address": tenant.address,
        "call_center": tenant.call_center,
        "social": [(SOCIAL_LABELS.get(k, k.title()), str(v)) for k, v in social.items() if v],
        "motto": facts.get("motto", ""),
        "values": [(str(k), str(v)) for k, v in values.items()],
    }


def sticker_context(tenant: Tenant) -> dict[str, Any]:
    """What the sticker prints: the programme, the consultation number and its QR link."""
    return {
        "tenant_name": tenant.name,
        "programme": tenant.programme,
        "call_center": tenant.call_center,
        "qr_url": wa_me_url(tenant.call_center),
    }
