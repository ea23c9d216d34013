"""WhatsApp webhooks: Meta's verification handshake and signed deliveries, and WAHA's."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse, PlainTextResponse

from services.consultation import inbound, webhooks
from services.consultation.settings import Settings
from shared.contracts import utcnow
from shared.logging import get_logger
from shared.web import RuntimeDep

router = APIRouter(tags=["webhook"])
log = get_logger(__name__)


def _settings(runtime: Any) -> Settings:
    settings = runtime.settings
    assert isinstance(settings, Settings)
    return settings


@router.get("/webhooks/whatsapp", response_class=PlainTextResponse)
async def verify_subscription(
    runtime: RuntimeDep,
    mode: Annotated[str, Query(alias="hub.mode", max_length=32)] = "",
    token: Annotated[str, Query(alias="hub.verify_token", max_length=256)] = "",
    challenge: Annotated[str, Query(alias="hub.challenge", max_length=256)] = "",
) -> PlainTextResponse:
    """Meta's handshake: echo hub.challenge when the verify token matches."""
    expected = _settings(runtime).cloud_verify_token.get_secret_value()
    if mode == "subscribe" and expected and webhooks.hmac_equal(token, expected):
        return PlainTextResponse(challenge)
    log.warning("consultation.webhook_verify_refused")
    return PlainTextResponse("forbidden", status_code=status.HTTP_403_FORBIDDEN)


@router.post("/webhooks/whatsapp", response_model=None)
async def receive_cloud(request: Request, runtime: RuntimeDep) -> Response:
    """A Cloud API delivery: signature first, then parse, publish, answer 200."""
    settings = _settings(runtime)
    body = await request.body()
    secret = settings.cloud_app_secret.get_secret_value()
    if not webhooks.valid_signature(secret, body, request.headers.get("x-hub-signature-256")):
        log.warning("consultation.webhook_bad_signature", gateway="cloud", size=len(body))
        return _problem(401, "tanda_tangan_tidak_valid", "Tanda tangan webhook tidak valid.")
    return await _take(runtime, "cloud", body, webhooks.parse_meta)


@router.post("/webhooks/waha", response_model=None)
async def receive_waha(request: Request, runtime: RuntimeDep) -> Response:
    """A WAHA delivery, signed with HMAC-SHA512 (X-Webhook-Hmac)."""
    settings = _settings(runtime)
    body = await request.body()
    secret = settings.waha_webhook_secret.get_secret_value()
    header = request.headers.get("x-webhook-hmac")
    if not webhooks.valid_signature(secret, body, header, algo="sha512"):
        log.warning("consultation.webhook_bad_signature", gateway="waha", size=len(body))
        return _problem(401, "tanda_tangan_tidak_valid", "Tanda tangan webhook tidak valid.")
    return await _take(runtime, "waha", body, webhooks.parse_waha)


async def _take(runtime: Any, gateway: str, body: bytes, parse: Any) -> Response:
    try:
        messages, statuses = parse(json.loads(body))
    except (ValueError, webhooks.MalformedPayload) as exc:
        reason = str(exc) if isinstance(exc, webhooks.MalformedPayload) else "not JSON"
        log.warning("consultation.webhook_malformed", gateway=gateway, reason=reason)
        return _problem(400, "data_tidak_valid", "Isi webhook tidak sesuai format.")
    async with runtime.db.session() as session:
        taken = await inbound.ingest(
            session,
            gateway=gateway,
            tenant=runtime.settings.default_tenant,
            messages=messages,
            statuses=statuses,
            now=utcnow(),
        )
    log.info(
        "consultation.webhook_received", gateway=gateway, messages=taken, statuses=len(statuses)
    )
    return JSONResponse({"ok": True})


def _problem(code: int, error: str, message: str) -> JSONResponse:
    return JSONResponse({"error": error, "message": message}, status_code=code)
