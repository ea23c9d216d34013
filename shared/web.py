"""FastAPI pieces every service uses: app factory, correlation ids, sessions, auth, health."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Annotated, Any, NamedTuple

import anyio
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import ASGIApp

from shared.auth import AuthError, Principal, Role, authorize, verify_token
from shared.catalogue import service_catalogue
from shared.consumer import Reaction
from shared.datafiles import protect_data_dir
from shared.db import Database
from shared.http_errors import document_errors, install_error_handlers
from shared.logging import bind_context, configure_logging, get_logger
from shared.metrics import install_metrics
from shared.middleware import BodyLimit, RequestContext, SecurityHeaders
from shared.ratelimit import (
    Hit,
    NetworkRateLimited,
    PhoneRateLimited,
    address_identity,
    limiter_for,
    phone_identity,
    wait_message,
)
from shared.runtime import Runtime
from shared.settings import ServiceSettings
from shared.tenants import UnknownOperatorTenant

log = get_logger(__name__)


async def get_runtime(request: Request) -> Runtime:
    """Returns the process's runtime (set by the app's lifespan).

    Dependencies here are `async def` even when they never await: FastAPI runs a plain `def`
    dependency in a worker thread, a hop that cost ~5% of a public POST's CPU.
    """
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(request: Request) -> AsyncSession:
    """Returns the request's session: it commits after the route returns and before the
    response is sent, or rolls back when the route raises (then the error is answered).

    Not a `yield` dependency: FastAPI wraps one in three context managers and a cancel scope
    per request (about 40 µs); this one registers its end on the same exit stack FastAPI
    closes for `scope="function"` dependencies, shielded from cancellation the same way.
    """
    db = request.app.state.runtime.db
    session = db.sessionmaker()
    stack: AsyncExitStack = request.scope["fastapi_function_astack"]
    stack.push_async_exit(partial(_end_session, db, session))
    return session


async def _end_session(db: Database, session: AsyncSession, kind: Any, *_: Any) -> bool:
    with anyio.CancelScope(shield=True):
        await db.end_session(session, failed=kind is not None)
    return False  # an exception goes on to the error handlers


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def get_principal(request: Request) -> Principal:
    """Returns the caller of a non-public endpoint from `Authorization: Bearer <token>`."""
    runtime: Runtime = request.app.state.runtime
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError(
            "Endpoint ini memerlukan token. Kirim header 'Authorization: Bearer <token>'."
        )
    admin = runtime.settings.admin_token
    principal = verify_token(admin.get_secret_value() if admin else None, token.strip())
    bind_context(principal_role=principal.role, principal=principal.subject)
    return principal


def require(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """Dependency factory: the caller must have one of the roles (admin always passes)."""

    async def dependency(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        authorize(principal, tuple(roles))
        return principal

    return dependency


def _is_operator(request: Request, runtime: Runtime) -> bool:
    """Tells whether the request carries a valid operator (or admin) token."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    admin = runtime.settings.admin_token
    if scheme.lower() != "bearer" or not token.strip() or admin is None:
        return False
    try:
        principal = verify_token(admin.get_secret_value(), token.strip())
    except AuthError:
        return False
    return principal.role in ("admin", "operator")


def rate_limited(bucket: str, *, phone_field: str | None = "phone") -> Callable[..., Any]:
    """Dependency factory: limits a public POST per client address and per phone in its body.

    Counted in Redis (shared by replicas); callers with an operator token are not limited.
    """

    async def dependency(request: Request) -> None:
        runtime: Runtime = request.app.state.runtime
        settings = runtime.settings
        if _is_operator(request, runtime):
            return
        address = address_identity(request.client.host) if request.client else ""
        phone = ""
        if phone_field and settings.rate_limit_per_phone > 0:
            phone = phone_identity(await _body_field(request, phone_field))
        by_address = Hit(
            f"{bucket}:address",
            address,
            settings.rate_limit_per_address,
            settings.rate_limit_window_s,
        )
        by_phone = Hit(
            f"{bucket}:phone",
            phone,
            settings.rate_limit_per_phone,
            settings.rate_limit_phone_window_s,
        )
        # One round trip for both; the phone is not counted when the address is refused.
        refused = await limiter_for(runtime.redis).hit_all([by_address, by_phone])
        if refused is None:
            return
        hit, wait = refused
        if hit is by_address:
            raise NetworkRateLimited(retry_after=wait, wait=wait_message(wait))
        raise PhoneRateLimited(retry_after=wait, wait=wait_message(wait))

    return dependency


class PublicWrite(NamedTuple):
    """What a public POST route needs besides its body: the runtime, the request's session
    (committed after the route returns, before the answer) and the correlation id."""

    runtime: Runtime
    session: AsyncSession
    correlation_id: str


def public_write(
    bucket: str, *, phone_field: str | None = "phone"
) -> Callable[[Request], Awaitable[PublicWrite]]:
    """Dependency factory for a public POST: its rate limits (see rate_limited), then its
    session, runtime and correlation id, as one dependency.

    FastAPI solves each dependency of a route on every request (about 10 µs each here); the
    public POSTs are the hot paths, so they take one instead of four.
    """
    limit = rate_limited(bucket, phone_field=phone_field)

    async def dependency(request: Request) -> PublicWrite:
        await limit(request)
        session = await get_session(request)
        return PublicWrite(request.app.state.runtime, session, await correlation_id(request))

    return dependency


async def _body_field(request: Request, field: str) -> Any:
    """One top-level field of a JSON body (already read and size-limited), or None.

    `request.json()` keeps what it parsed: FastAPI parsed the body through it already.
    """
    try:
        body = await request.json()
    except ValueError:
        return None
    return body.get(field) if isinstance(body, dict) else None


OperatorDep = Annotated[Principal, Depends(require("operator"))]
AdminDep = Annotated[Principal, Depends(require("admin"))]


def create_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    routers: Sequence[APIRouter],
    reactions: Sequence[Reaction[Any]] = (),
    on_startup: Callable[[Runtime], Awaitable[None]] | None = None,
    upload_paths: Sequence[str] = (),
) -> FastAPI:
    """Builds a service's FastAPI app: logging, runtime lifespan, errors, health and routes."""
    configure_logging(
        settings.service_name,
        fmt=settings.effective_log_format,
        level=settings.log_level,
        log_dir=settings.log_dir,
    )
    if not settings.database_url:  # the embedded default keeps SQLite files in the data folder
        protect_data_dir(settings.data_dir)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime(settings, reactions)
        app.state.runtime = runtime
        if on_startup is not None:
            await on_startup(runtime)
        await runtime.start()
        log.info("service.started", url=settings.effective_public_url)
        try:
            yield
        finally:
            log.info("service.stopping")
            await runtime.stop()

    uploads = {path: settings.max_upload_bytes for path in upload_paths}
    # Menjamu's telemetry is its Prometheus metrics and log lines; FastAPI's own OpenTelemetry
    # hooks stay off (with them on, every request asks OpenTelemetry for its providers).
    app = ServiceApp(title=title, lifespan=lifespan, version="1", telemetry=_NO_OTEL)
    app.state.reactions = tuple(reactions)  # read by the event catalogue (menjamu asyncapi)
    app.wrap = lambda inner: RequestContext(
        SecurityHeaders(BodyLimit(inner, settings.max_body_bytes, uploads)), settings.service_name
    )
    install_error_handlers(app)
    install_metrics(app, settings)
    app.include_router(_health_router())
    app.include_router(_catalogue_router(settings, reactions))
    for router in routers:
        app.include_router(router)
    return app


_NO_OTEL: Any = {"tracing": False, "metrics": False, "logs": False}


class ServiceApp(FastAPI):
    """FastAPI whose own middleware (request context, headers, body limit) sits outermost.

    Outside Starlette's error middleware, so a 500 answer also gets its headers and log line.
    """

    wrap: Callable[[ASGIApp], ASGIApp] | None = None

    def openapi(self) -> dict[str, Any]:
        """FastAPI's schema, with the error answers this app gives (see shared.http_errors)."""
        if self.openapi_schema is None:
            self.openapi_schema = document_errors(super().openapi())
        return self.openapi_schema

    def build_middleware_stack(self) -> ASGIApp:
        """Builds Starlette's stack, then wraps it in the service's pure ASGI middleware."""
        stack = super().build_middleware_stack()
        return self.wrap(stack) if self.wrap else stack


async def correlation_id(request: Request) -> str:
    """Returns the request's correlation id (from X-Correlation-ID or generated)."""
    value: str = getattr(request.state, "correlation_id", None) or str(uuid.uuid4())
    return value


CorrelationDep = Annotated[str, Depends(correlation_id)]


def _health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/health")
    async def health(runtime: RuntimeDep) -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok", "service": runtime.settings.service_name}

    @router.get("/ready")
    async def ready(runtime: RuntimeDep) -> JSONResponse:
        """Readiness: database, Redis and consumer groups reachable."""
        report = await runtime.readiness()
        return JSONResponse(status_code=200 if report["ready"] else 503, content=report)

    return router


def _catalogue_router(settings: ServiceSettings, reactions: Sequence[Reaction[Any]]) -> APIRouter:
    router = APIRouter(tags=["health"])
    # The service's package is where its Settings class lives (services/<name>/settings.py).
    package = Path(sys.modules[type(settings).__module__].__file__ or ".").parent
    cached: dict[str, Any] = {}

    @router.get("/asyncapi.json", include_in_schema=False)
    async def asyncapi() -> JSONResponse:
        """This service's part of the event catalogue (AsyncAPI 3.0; `menjamu asyncapi`)."""
        if not cached:
            cached.update(
                await asyncio.to_thread(
                    service_catalogue, settings.service_name, reactions, package
                )
            )
        return JSONResponse(cached)

    return router


def resolve_tenant(runtime: Runtime, principal: Principal, requested: str | None) -> Any:
    """Picks the tenant an operator acts for: asked for, else their own, else the default."""
    code = (
        requested
        or (principal.tenant if principal.tenant != "*" else None)
        or runtime.settings.default_tenant
    )
    tenant = runtime.tenant(code)
    if tenant is None:
        raise UnknownOperatorTenant(tenant=code)
    authorize(principal, (principal.role,), tenant.code)
    bind_context(tenant=tenant.code)
    return tenant
