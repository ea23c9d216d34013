"""Meta WhatsApp Cloud API adapter: sends text, template and document messages.

`POST {base}/{phone_number_id}/messages` with a bearer token and Meta's JSON. Failures are
mapped by Meta's error code: throttling and Meta-side faults are retried, a bad number, a
rejected template or bad credentials are not. The Cloud API has no idempotency key, so a
process killed between Meta's accept and our commit may send that message once more.
"""

from __future__ import annotations

from typing import Any

import httpx

from services.consultation.gateway import GatewayError, Outgoing, SendResult, SendRule

# Meta error codes worth another try later (throttling, temporary Meta-side faults).
RETRYABLE_CODES = frozenset({1, 2, 4, 17, 341, 80007, 130429, 131000, 131016, 131048, 131056})
# Codes that never succeed on a retry (kept for the log's wording; unknown 4xx codes are final).
PERMANENT_CODES = {
    190: "access token invalid or expired",
    10: "permission denied",
    100: "invalid parameter",
    131026: "message undeliverable (number not on WhatsApp)",
    131047: "outside the 24-hour window (re-engagement needed)",
    131051: "unsupported message type",
    132000: "template parameters do not match",
    132001: "template does not exist",
    132005: "template text too long",
    132007: "template format rejected",
    132015: "template paused",
    132016: "template disabled",
    133010: "sender number not registered",
}


def to_wa_id(phone: str) -> str:
    """Meta's recipient form: E.164 digits without '+'."""
    return phone.lstrip("+")


def template_param(text: str) -> str:
    """A template variable as Meta accepts it: no new lines or tabs, no runs of spaces, short."""
    return " ".join(text.split())[:1024] or "-"


def payload(message: Outgoing) -> dict[str, Any]:
    """Builds Meta's messages payload for one outgoing message."""
    base: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to_wa_id(message.to),
    }
    if message.rule is SendRule.TEMPLATE:
        parameters = [{"type": "text", "text": template_param(p)} for p in message.params]
        template: dict[str, Any] = {
            "name": message.template,
            "language": {"code": message.language},
        }
        if parameters:
            template["components"] = [{"type": "body", "parameters": parameters}]
        return {**base, "type": "template", "template": template}
    if message.rule is SendRule.DOCUMENT:
        document = {"link": message.document_url, "caption": message.body}
        if message.document_name:
            document["filename"] = message.document_name
        return {**base, "type": "document", "document": document}
    return {**base, "type": "text", "text": {"preview_url": True, "body": message.body}}


def classify(status: int, body: Any) -> GatewayError:
    """Maps a failed answer to a GatewayError, retryable or not, by HTTP status and Meta code."""
    error = body.get("error", {}) if isinstance(body, dict) else {}
    code = error.get("code") if isinstance(error, dict) else None
    what = PERMANENT_CODES.get(code) if isinstance(code, int) else None
    text = f"cloud api {status} code={code}" + (f" ({what})" if what else "")
    if status == 429 or status >= 500 or code in RETRYABLE_CODES:
        return GatewayError(text, retryable=True)
    return GatewayError(text, retryable=False)


class CloudApiGateway:
    """Sends through the WhatsApp Cloud API from one business phone number."""

    name = "cloud"

    def __init__(
        self, *, base_url: str, phone_number_id: str, access_token: str, timeout_s: float
    ) -> None:
        self.sender_id = f"cloud:{phone_number_id}"
        self.url = f"{base_url.rstrip('/')}/{phone_number_id}/messages"
        self.client = httpx.AsyncClient(
            timeout=timeout_s, headers={"Authorization": f"Bearer {access_token}"}
        )

    async def send(self, message: Outgoing, *, idempotency_key: str) -> SendResult:
        """Sends one message; raises GatewayError (retryable or not) when Meta refuses it."""
        try:
            response = await self.client.post(self.url, json=payload(message))
        except httpx.TimeoutException as exc:
            raise GatewayError("cloud api timed out", retryable=True) from exc
        except httpx.HTTPError as exc:
            raise GatewayError(
                f"cloud api unreachable: {type(exc).__name__}", retryable=True
            ) from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400:
            raise classify(response.status_code, body)
        try:
            return SendResult(provider_message_id=str(body["messages"][0]["id"]))
        except (KeyError, IndexError, TypeError) as exc:
            raise GatewayError("cloud api answer without a message id", retryable=True) from exc

    async def close(self) -> None:
        """Closes the HTTP connection pool."""
        await self.client.aclose()
