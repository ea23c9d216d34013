"""HTML pages of the consultation service (Jinja2, autoescaped, Bahasa Indonesia)."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from services.consultation.models import DevMessage
from shared.dates import as_utc
from shared.pages import page_templates
from shared.privacy import mask_phone

_env = page_templates(__file__)
_WIB = ZoneInfo("Asia/Jakarta")


@dataclass(frozen=True)
class _DevMessageView:
    to: str
    sent_at: str
    provider_message_id: str
    body: str


def dev_messages_page(rows: list[DevMessage]) -> str:
    """Renders the recorded outbound messages, phone numbers masked, times in WIB."""
    views = [
        _DevMessageView(
            to=mask_phone(r.to),
            sent_at=as_utc(r.sent_at).astimezone(_WIB).strftime("%d-%m-%Y %H:%M:%S WIB"),
            provider_message_id=r.provider_message_id,
            body=r.body,
        )
        for r in rows
    ]
    return _env.get_template("dev_whatsapp.html").render(
        title="Pesan WhatsApp (mode pengembangan)", messages=views
    )


def invitation_not_found_page(message: str) -> str:
    """Renders the page shown for an unknown or unusable invitation link."""
    return _env.get_template("invitation_not_found.html").render(
        title="Tautan undangan tidak ditemukan", message=message
    )


def inbox_page() -> str:
    """Renders the mentor inbox (data comes from the API with the mentor's token)."""
    return _env.get_template("inbox.html").render(title="Kotak masuk mentor")
