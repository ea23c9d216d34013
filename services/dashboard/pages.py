"""The dashboard page (Bahasa Indonesia), its login, its live stream (SSE) and static files."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from fastapi.templating import Jinja2Templates

from services.dashboard import service
from services.dashboard.access import COOKIE, DashboardOperator, principal_from, tenant_codes
from shared.auth import AuthError, Principal
from shared.contracts import utcnow
from shared.logging import get_logger
from shared.pages import StaticFileNotFound
from shared.ratelimit import address_identity, limiter_for, wait_message
from shared.runtime import Runtime
from shared.web import RuntimeDep, resolve_tenant

pages = APIRouter(tags=["dashboard"])
HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
STATIC = {"chart.umd.min.js", "dashboard.js", "dashboard.css"}


log = get_logger(__name__)


@pages.get("/dashboard", response_class=HTMLResponse, response_model=None)
async def dashboard(request: Request, runtime: RuntimeDep, tenant: str | None = None) -> Response:
    """The programme dashboard; without a valid cookie, the login form."""
    try:
        principal = principal_from(request, runtime)
    except AuthError:
        return RedirectResponse("/dashboard/masuk", status_code=303)
    chosen = resolve_tenant(runtime, principal, tenant)
    return templates.TemplateResponse(
        request,
        "dashboard.html",
        {
            "tenant": chosen,
            "tenants": [runtime.tenants[c] for c in tenant_codes(runtime, principal)],
            "principal": principal,
        },
    )


@pages.get("/dashboard/masuk", response_class=HTMLResponse)
async def login_form(request: Request) -> HTMLResponse:
    """The login form: paste the operator token once; it is kept in an HttpOnly cookie."""
    return templates.TemplateResponse(request, "login.html", {"error": None})


@pages.post("/dashboard/masuk", response_class=HTMLResponse, response_model=None)
async def login(
    request: Request, runtime: RuntimeDep, token: Annotated[str, Form(max_length=2000)] = ""
) -> Response:
    """Checks the token and sets the cookie; a wrong token shows the form again."""
    wait = await _login_throttle(request, runtime)
    if wait:
        message = (
            "Terlalu banyak percobaan masuk dari jaringan Anda. Silakan coba lagi dalam "
            f"{wait_message(wait)}."
        )
        return templates.TemplateResponse(
            request,
            "login.html",
            {"error": message},
            status_code=429,
            headers={"Retry-After": str(wait)},
        )
    try:
        principal = _verify(runtime, token.strip())
    except AuthError as exc:
        log.warning("dashboard.login_refused", reason=exc.message)
        return templates.TemplateResponse(
            request, "login.html", {"error": exc.message}, status_code=401
        )
    log.info("dashboard.login", principal=principal.subject, tenant=principal.tenant)
    response = RedirectResponse("/dashboard", status_code=303)
    response.set_cookie(
        COOKIE,
        token.strip(),
        httponly=True,
        samesite="strict",
        secure=bool(getattr(runtime.settings, "cookie_secure", False)),
        max_age=12 * 3600,
        path="/",
    )
    return response


async def _login_throttle(request: Request, runtime: Runtime) -> int | None:
    """Counts a login post per client address (shared by replicas in Redis); seconds to wait."""
    limit = getattr(runtime.settings, "login_attempts_per_minute", 10)
    address = address_identity(request.client.host) if request.client else ""
    return await limiter_for(runtime.redis).hit(
        "dashboard_login:address", address, limit=limit, window_s=60
    )


def _verify(runtime: Runtime, token: str) -> Principal:
    from shared.auth import authorize, verify_token

    if not token:
        raise AuthError("Token belum diisi.")
    admin = runtime.settings.admin_token
    principal = verify_token(admin.get_secret_value() if admin else None, token)
    authorize(principal, ("operator",))
    return principal


@pages.post("/dashboard/keluar")
async def logout() -> RedirectResponse:
    """Forgets the cookie."""
    response = RedirectResponse("/dashboard/masuk", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@pages.get("/dashboard/static/{name}")
async def static(name: str) -> FileResponse:
    """The page's script, style and the vendored chart library (no CDN)."""
    if name not in STATIC:
        raise StaticFileNotFound()
    return FileResponse(HERE / "static" / name, headers={"Cache-Control": "max-age=3600"})


@pages.get("/dashboard/stream")
async def stream(
    request: Request, principal: DashboardOperator, runtime: RuntimeDep, tenant: str | None = None
) -> StreamingResponse:
    """Server-sent events: a `snapshot` whenever the numbers change, `health` every refresh."""
    chosen = resolve_tenant(runtime, principal, tenant)
    return StreamingResponse(
        _events(request, runtime, chosen.code, chosen.timezone),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _events(
    request: Request, runtime: Runtime, tenant: str, timezone: str
) -> AsyncIterator[str]:
    changes = request.app.state.changes
    health = request.app.state.health
    refresh = float(getattr(runtime.settings, "refresh_s", 5.0))
    seen = -1
    while not await request.is_disconnected():
        # The first round sends at once; later ones after a change or every refresh (other
        # replicas' changes and the health strip arrive that way).
        seen = await changes.wait(seen, refresh) if seen >= 0 else changes.version
        async with runtime.db.session() as session:
            data = await service.snapshot(session, tenant, utcnow(), timezone)
        for name, value in (("snapshot", data), ("health", await health.get())):
            yield f"event: {name}\ndata: {json.dumps(value, default=str)}\n\n"
