"""WAHA adapter (self-hosted WhatsApp HTTP API, an unofficial gateway): sends text.

WAHA drives a WhatsApp account like a phone does; it has no templates, so every message goes
as its text (the rule recorded on the message still says which rule the Cloud API would use).
Unofficial gateways can get the number banned: see the README before choosing it.
"""

from __future__ import annotations

from typing import Any

import httpx

from services.consultation.gateway import GatewayError, Outgoing, SendResult, SendRule


def chat_id(phone: str) -> str:
    """WAHA's chat id of a number: digits without '+', then @c.us."""
    return f"{phone.lstrip('+')}@c.us"


def message_id(body: Any) -> str | None:
    """The sent message's id across WAHA engines (id string, id._serialized or key.id)."""
    if not isinstance(body, dict):
        return None
    found = body.get("id")
    if isinstance(found, dict):
        found = found.get("_serialized") or found.get("id")
    if not found and isinstance(body.get("key"), dict):
        found = body["key"].get("id")
    return str(found) if found else None


class WahaGateway:
    """Sends text through a WAHA server's session."""

    name = "waha"

    def __init__(self, *, base_url: str, session: str, api_key: str, timeout_s: float) -> None:
        self.sender_id = f"waha:{session}"
        self.session = session
        self.url = f"{base_url.rstrip('/')}/api/sendText"
        headers = {"X-Api-Key": api_key} if api_key else {}
        self.client = httpx.AsyncClient(timeout=timeout_s, headers=headers)

    async def send(self, message: Outgoing, *, idempotency_key: str) -> SendResult:
        """Sends the message's text (a document's link goes inside the text)."""
        text = message.body
        if message.rule is SendRule.DOCUMENT and message.document_url:
            text = f"{message.body}\n{message.document_url}"
        try:
            response = await self.client.post(
                self.url,
                json={"session": self.session, "chatId": chat_id(message.to), "text": text},
            )
        except httpx.HTTPError as exc:
            raise GatewayError(f"waha unreachable: {type(exc).__name__}", retryable=True) from exc
        if response.status_code >= 400:
            retryable = response.status_code == 429 or response.status_code >= 500
            raise GatewayError(f"waha {response.status_code}", retryable=retryable)
        try:
            found = message_id(response.json())
        except ValueError:
            found = None
        return SendResult(provider_message_id=found or f"waha-{idempotency_key}")

    async def close(self) -> None:
        """Closes the HTTP connection pool."""
        await self.client.aclose()
