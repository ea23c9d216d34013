"""Webhook payloads (pure): signatures, and Meta's and WAHA's shapes parsed to one form."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from services.consultation.statuses import DeliveryStatus

STATUSES = tuple(DeliveryStatus)


class MalformedPayload(ValueError):
    """The body is not the provider's webhook shape (the reason names no personal data)."""


@dataclass(frozen=True)
class Inbound:
    """A text message a citizen sent."""

    provider_message_id: str
    phone: str  # E.164
    text: str
    received_at: datetime


@dataclass(frozen=True)
class StatusUpdate:
    """What became of a message we sent."""

    provider_message_id: str
    status: DeliveryStatus
    at: datetime
    error_code: int | None = None


def valid_signature(secret: str, body: bytes, header: str | None, *, algo: str = "sha256") -> bool:
    """Checks `sha256=<hex>` (Meta) or a bare hex digest (WAHA) in constant time."""
    if not secret or not header:
        return False
    given = header.split("=", 1)[1] if header.startswith(f"{algo}=") else header
    expected = hmac.new(secret.encode(), body, getattr(hashlib, algo)).hexdigest()
    return hmac.compare_digest(expected.encode(), given.strip().lower().encode("ascii", "replace"))


def _e164(wa_id: Any) -> str:
    digits = str(wa_id).split("@", 1)[0]
    if not digits.isdigit() or not 8 <= len(digits) <= 15:
        raise MalformedPayload("sender is not a phone number")
    return f"+{digits}"


def _when(timestamp: Any) -> datetime:
    try:
        return datetime.fromtimestamp(int(timestamp), tz=UTC)
    except (TypeError, ValueError, OverflowError) as exc:
        raise MalformedPayload("timestamp is not a number") from exc


def _dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedPayload(f"{what} is not an object")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedPayload(f"{what} is not a list")
    return value


def parse_meta(payload: Any) -> tuple[list[Inbound], list[StatusUpdate]]:
    """Reads entry[].changes[].value.messages / statuses of a Cloud API webhook."""
    body = _dict(payload, "body")
    if body.get("object") != "whatsapp_business_account":
        raise MalformedPayload("object is not whatsapp_business_account")
    inbound: list[Inbound] = []
    statuses: list[StatusUpdate] = []
    for entry in _list(body.get("entry"), "entry"):
        for change in _list(_dict(entry, "entry").get("changes"), "changes"):
            value = _dict(_dict(change, "change").get("value"), "value")
            inbound += [_meta_message(m) for m in _list(value.get("messages"), "messages")]
            statuses += [_meta_status(s) for s in _list(value.get("statuses"), "statuses")]
    return [m for m in inbound if m.text], statuses


def _meta_message(raw: Any) -> Inbound:
    message = _dict(raw, "message")
    if not isinstance(message.get("id"), str):
        raise MalformedPayload("message without id")
    kind = message.get("type")
    if kind == "text":
        text = _dict(message.get("text"), "text").get("body")
    elif kind == "button":
        text = _dict(message.get("button"), "button").get("text")
    else:
        text = ""  # media, reactions, stickers: not handled by the pipeline
    return Inbound(
        provider_message_id=message["id"],
        phone=_e164(message.get("from")),
        text=str(text or "")[:4000],
        received_at=_when(message.get("timestamp")),
    )


def _meta_status(raw: Any) -> StatusUpdate:
    status = _dict(raw, "status")
    if not isinstance(status.get("id"), str) or status.get("status") not in STATUSES:
        raise MalformedPayload("status without id or with an unknown status")
    errors = _list(status.get("errors"), "errors")
    code = errors[0].get("code") if errors and isinstance(errors[0], dict) else None
    return StatusUpdate(
        provider_message_id=status["id"],
        status=DeliveryStatus(status["status"]),
        at=_when(status.get("timestamp")),
        error_code=code if isinstance(code, int) else None,
    )


_WAHA_ACK = {
    1: DeliveryStatus.SENT,
    2: DeliveryStatus.DELIVERED,
    3: DeliveryStatus.READ,
    4: DeliveryStatus.READ,
    -1: DeliveryStatus.FAILED,
}


def parse_waha(payload: Any) -> tuple[list[Inbound], list[StatusUpdate]]:
    """Reads a WAHA webhook: event 'message' (inbound) or 'message.ack' (status)."""
    body = _dict(payload, "body")
    event = body.get("event")
    data = _dict(body.get("payload"), "payload")
    if not isinstance(data.get("id"), str):
        raise MalformedPayload("payload without id")
    if event == "message":
        if data.get("fromMe") or str(data.get("from", "")).endswith("@g.us"):
            return [], []  # our own messages and group chatter are not consultations
        return [
            Inbound(
                provider_message_id=data["id"],
                phone=_e164(data.get("from")),
                text=str(data.get("body") or "")[:4000],
                received_at=_when(data.get("timestamp")),
            )
        ], []
    if event == "message.ack":
        status = _WAHA_ACK.get(data.get("ack"))  # type: ignore[arg-type]
        if status is None:
            return [], []
        return [], [StatusUpdate(data["id"], status, datetime.now(UTC))]
    raise MalformedPayload("event is not message or message.ack")


def hmac_equal(given: str, expected: str) -> bool:
    """Compares two secrets in constant time (any characters)."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
