"""A fake WhatsApp Cloud API: a real HTTP server on localhost that answers as Meta documents.

It checks the bearer token and the phone number id, validates the messages payload, records
every accepted request, and can be told to answer the next requests with an error (429 with
code 130429, 400 with 131026, 401 with 190, ...) in Meta's error body shape.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.support import free_port

TOKEN = "fake-cloud-access-token"
PHONE_NUMBER_ID = "106540352242922"
APP_SECRET = "fake-app-secret"
VERIFY_TOKEN = "fake-verify-token"
_ERROR_TYPES = {190: "OAuthException", 130429: "OAuthException", 100: "OAuthException"}


def error_body(code: int, message: str) -> dict[str, Any]:
    """Meta's error body."""
    return {
        "error": {
            "message": message,
            "type": _ERROR_TYPES.get(code, "OAuthException"),
            "code": code,
            "error_subcode": 2494010 if code == 131026 else None,
            "fbtrace_id": uuid.uuid4().hex[:22],
        }
    }


def _invalid(body: Any) -> str | None:
    """Why a messages payload is invalid (None when Meta would accept it)."""
    if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
        return "messaging_product must be whatsapp"
    if not str(body.get("to", "")).isdigit():
        return "to must be digits"
    kind = body.get("type")
    if kind == "text" and isinstance(body.get("text"), dict) and body["text"].get("body"):
        return None
    if kind == "template":
        template = body.get("template") or {}
        if template.get("name") and (template.get("language") or {}).get("code"):
            return None
        return "template needs name and language.code"
    if kind == "document" and (body.get("document") or {}).get("link"):
        return None
    return f"unsupported or incomplete message of type {kind!r}"


class FakeCloudApi:
    """The fake server: `requests` holds every accepted messages payload."""

    def __init__(self) -> None:
        self.port = free_port()
        self.requests: list[dict[str, Any]] = []
        self.refused: list[tuple[int, dict[str, Any]]] = []
        self._failures: list[tuple[int, int, str]] = []
        self._lock = threading.Lock()
        app = Starlette(
            routes=[Route("/{version}/{pnid}/messages", self._messages, methods=["POST"])]
        )
        self.server = uvicorn.Server(
            uvicorn.Config(
                app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
            )
        )

    @property
    def base_url(self) -> str:
        """What CONSULTATION_CLOUD_API_URL points at."""
        return f"http://127.0.0.1:{self.port}/v21.0"

    def fail_next(self, status: int, code: int, message: str = "error", times: int = 1) -> None:
        """Answers the next `times` valid requests with Meta's error body."""
        with self._lock:
            self._failures += [(status, code, message)] * times

    def sent_to(self, phone: str) -> list[dict[str, Any]]:
        """Accepted payloads addressed to an E.164 number."""
        return [r for r in list(self.requests) if r.get("to") == phone.lstrip("+")]

    async def _messages(self, request: Request) -> JSONResponse:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return self._refuse(401, error_body(190, "Invalid OAuth access token."))
        if request.path_params["pnid"] != PHONE_NUMBER_ID:
            return self._refuse(400, error_body(100, "Unsupported post request."))
        try:
            body = json.loads(await request.body())
        except ValueError:
            return self._refuse(400, error_body(100, "Invalid JSON"))
        reason = _invalid(body)
        if reason:
            return self._refuse(400, error_body(100, f"(#100) Invalid parameter: {reason}"))
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
        if failure:
            status, code, message = failure
            return self._refuse(status, error_body(code, message))
        self.requests.append(body)
        message_id = f"wamid.{uuid.uuid4().hex}"
        answer: dict[str, Any] = {"id": message_id}
        if body["type"] == "template":
            answer["message_status"] = "accepted"
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                "messages": [answer],
            }
        )

    def _refuse(self, status: int, body: dict[str, Any]) -> JSONResponse:
        self.refused.append((status, body))
        return JSONResponse(body, status_code=status)


@contextmanager
def running_fake_cloud_api() -> Iterator[FakeCloudApi]:
    """Starts the fake on a free localhost port in a thread; stops it afterwards."""
    fake = FakeCloudApi()
    thread = threading.Thread(target=fake.server.run, name="fake-cloud-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not fake.server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the fake Cloud API did not start")
        time.sleep(0.02)
    try:
        yield fake
    finally:
        fake.server.should_exit = True
        thread.join(timeout=10)


# --- webhook payloads as Meta sends them -----------------------------------------------------


def inbound_text_payload(wa_id: str, text: str, message_id: str, timestamp: int) -> dict[str, Any]:
    """A Cloud API webhook carrying one inbound text message."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": PHONE_NUMBER_ID,
                            },
                            "contacts": [{"profile": {"name": "Warga"}, "wa_id": wa_id}],
                            "messages": [
                                {
                                    "from": wa_id,
                                    "id": message_id,
                                    "timestamp": str(timestamp),
                                    "type": "text",
                                    "text": {"body": text},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }


def status_payload(message_id: str, status: str, error_code: int | None = None) -> dict[str, Any]:
    """The `statuses` part of a webhook value for one sent message."""
    entry: dict[str, Any] = {
        "id": message_id,
        "status": status,
        "timestamp": str(int(time.time())),
        "recipient_id": "6281234567890",
    }
    if error_code is not None:
        entry["errors"] = [{"code": error_code, "title": "Message undeliverable."}]
    return {"statuses": [entry]}


def signed(body: dict[str, Any], secret: str = APP_SECRET) -> tuple[bytes, dict[str, str]]:
    """The raw body and the headers Meta sends with it (X-Hub-Signature-256)."""
    raw = json.dumps(body).encode()
    signature = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {"X-Hub-Signature-256": f"sha256={signature}", "Content-Type": "application/json"}
