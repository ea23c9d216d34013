"""A fake WAHA server: POST /api/sendText with X-Api-Key, answers like WAHA's WEBJS engine."""

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

API_KEY = "fake-waha-key"
WEBHOOK_SECRET = "fake-waha-hmac"


class FakeWaha:
    """Records every accepted sendText body."""

    def __init__(self) -> None:
        self.port = free_port()
        self.requests: list[dict[str, Any]] = []
        app = Starlette(routes=[Route("/api/sendText", self._send, methods=["POST"])])
        self.server = uvicorn.Server(
            uvicorn.Config(
                app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
            )
        )

    @property
    def url(self) -> str:
        """What CONSULTATION_WAHA_URL points at."""
        return f"http://127.0.0.1:{self.port}"

    async def _send(self, request: Request) -> JSONResponse:
        if request.headers.get("x-api-key") != API_KEY:
            return JSONResponse({"message": "Unauthorized"}, status_code=401)
        body = json.loads(await request.body())
        if not str(body.get("chatId", "")).endswith("@c.us") or not body.get("text"):
            return JSONResponse({"message": "chatId and text are required"}, status_code=400)
        self.requests.append(body)
        serialized = f"true_{body['chatId']}_{uuid.uuid4().hex[:20].upper()}"
        return JSONResponse(
            {
                "id": {"fromMe": True, "remote": body["chatId"], "_serialized": serialized},
                "body": body["text"],
                "timestamp": int(time.time()),
            }
        )


@contextmanager
def running_fake_waha() -> Iterator[FakeWaha]:
    """Starts the fake WAHA on a free localhost port in a thread."""
    fake = FakeWaha()
    thread = threading.Thread(target=fake.server.run, name="fake-waha", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not fake.server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the fake WAHA did not start")
        time.sleep(0.02)
    try:
        yield fake
    finally:
        fake.server.should_exit = True
        thread.join(timeout=10)


def signed_message(phone: str, text: str) -> tuple[bytes, dict[str, str]]:
    """A WAHA 'message' webhook and its X-Webhook-Hmac (SHA-512) headers."""
    body = {
        "event": "message",
        "session": "default",
        "payload": {
            "id": f"false_{phone.lstrip('+')}@c.us_{uuid.uuid4().hex[:20].upper()}",
            "timestamp": int(time.time()),
            "from": f"{phone.lstrip('+')}@c.us",
            "fromMe": False,
            "body": text,
        },
    }
    raw = json.dumps(body).encode()
    digest = hmac.new(WEBHOOK_SECRET.encode(), raw, hashlib.sha512).hexdigest()
    return raw, {
        "X-Webhook-Hmac": digest,
        "X-Webhook-Hmac-Algorithm": "sha512",
        "Content-Type": "application/json",
    }
