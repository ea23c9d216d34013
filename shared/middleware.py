"""Pure ASGI middleware every service runs: request context and log line, security headers,
HEAD as GET, and a body size limit enforced before anything parses the body."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
import uuid
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from structlog.contextvars import get_contextvars

from shared.logging import bind_context, clear_context, get_logger, request_fields
from shared.pages import error_response, nonce_of, start_csp_nonce

log = get_logger(__name__)
CORRELATION_HEADER = "X-Correlation-ID"
_CORRELATION_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_QUIET_PATHS = ("/health", "/ready")
_DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc")
_DOCS_CDN = "https://cdn.jsdelivr.net"
_SCRIPT_RE = re.compile(rb"<script>(.*?)</script>", re.S)
_BASE_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
_API_CSP = "default-src 'none'; frame-ancestors 'none'"


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return ""


class RequestContext:
    """Binds service, correlation and request ids to the logs; one `http.request` line each."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-correlation-id")
        correlation_id = incoming if _CORRELATION_RE.match(incoming) else str(uuid.uuid4())
        outer = get_contextvars()  # restored afterwards: nothing leaks between requests
        clear_context()
        bind_context(
            service=self.service, correlation_id=correlation_id, request_id=secrets.token_hex(6)
        )
        scope.setdefault("state", {})["correlation_id"] = correlation_id
        started = time.perf_counter()
        status = 0
        noted: dict[str, Any] = {}
        noted_token = request_fields.set(noted)
        marker = (CORRELATION_HEADER.lower().encode(), correlation_id.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), marker]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # Starlette sent the 500 page and logged the traceback (masked) before re-raising;
            # re-raising again would only make the server log it a second time, unmasked.
            if status != 500:  # nothing (or a success) was sent: let the server handle it
                raise
        finally:
            if scope["path"] not in _QUIET_PATHS:
                duration_ms = round((time.perf_counter() - started) * 1000, 1)
                line = {"method": scope["method"], "path": scope["path"], "status": status or 500}
                log.info("http.request", **{**noted, **line, "duration_ms": duration_ms})
            request_fields.reset(noted_token)
            clear_context()
            bind_context(**outer)


class SecurityHeaders:
    """Adds CSP (per-request script nonce), frame, sniffing and referrer headers; serves HEAD."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        if head:  # HEAD works wherever GET does: answer GET's headers without the body
            scope = {**scope, "method": "GET"}
        nonce = start_csp_nonce()  # drawn only for a page (see _policy)
        if scope["path"] in _DOCS_PATHS:
            await self.app(scope, receive, _DocsSender(send, head))
            return

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                policy = (b"content-security-policy", _policy(headers, nonce).encode())
                present = {k.lower() for k, _ in headers}  # a route's own choice wins
                headers += [h for h in (*_BASE_HEADERS, policy) if h[0] not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, _head_body(send_secured) if head else send_secured)


def _head_body(send: Send) -> Send:
    """Drops the body of a HEAD answer, keeping its headers (and Content-Length)."""

    async def sender(message: Message) -> None:
        if message["type"] == "http.response.body":
            if message.get("more_body"):
                return
            message = {"type": "http.response.body", "body": b"", "more_body": False}
        await send(message)

    return sender


def _policy(headers: list[tuple[bytes, bytes]], nonce: list[str]) -> str:
    content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
    if not content_type.startswith(b"text/html"):
        return _API_CSP
    return (
        f"default-src 'self'; script-src 'self' 'nonce-{nonce_of(nonce)}'; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


class _DocsSender:
    """The OpenAPI pages: FastAPI's own inline scripts are allowed by their hash, nothing else."""

    def __init__(self, send: Send, head: bool) -> None:
        self.send = send
        self.head = head
        self.start: Message | None = None
        self.body = b""

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
            return
        self.body += message.get("body", b"")
        if message.get("more_body") or self.start is None:
            return
        hashes = " ".join(
            "'sha256-" + base64.b64encode(hashlib.sha256(s).digest()).decode() + "'"
            for s in _SCRIPT_RE.findall(self.body)
        )
        policy = (
            f"default-src 'self'; script-src {hashes} {_DOCS_CDN}; style-src 'self' "
            f"'unsafe-inline' {_DOCS_CDN}; img-src 'self' data: https:; frame-ancestors 'none'"
        )
        headers = [*self.start.get("headers", []), *_BASE_HEADERS]
        self.start["headers"] = [*headers, (b"content-security-policy", policy.encode())]
        await self.send(self.start)
        body = b"" if self.head else self.body
        await self.send({"type": "http.response.body", "body": body, "more_body": False})


class BodyLimit:
    """Refuses a request body over max_bytes with 413, from Content-Length or while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int, uploads: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # path pattern (regex) -> larger limit, only where an upload is meant
        self.uploads = [(re.compile(p), n) for p, n in (uploads or {}).items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        limit = next((n for p, n in self.uploads if p.fullmatch(path)), self.max_bytes)
        declared = _header(scope, b"content-length")
        if declared and (not declared.isdigit() or int(declared) > limit):
            await self._refuse(scope, send, 413 if declared.isdigit() else 400, limit)
            return
        received = 0
        refused = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    # Stop the app from reading further; what it answers is replaced below.
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                if not started:
                    started = True
                    await self._refuse(scope, send, 413, limit)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not refused:
                raise
        if refused and not started:
            await self._refuse(scope, send, 413, limit)

    async def _refuse(self, scope: Scope, send: Send, status: int, limit: int) -> None:
        message = (
            f"Data yang dikirim terlalu besar (maksimal {limit // 1024} KB)."
            if status == 413
            else "Header Content-Length tidak valid."
        )
        content: dict[str, Any] = {"error": "data_terlalu_besar", "message": message}
        if status == 400:
            content["error"] = "permintaan_tidak_valid"
        response = error_response(Request(scope), status, content, {"Connection": "close"})
        await response(scope, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.disconnect"}
