"""FastAPI pieces every service uses: app factory, correlation ids, sessions, auth, health."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import AuthError, Principal, Role, authorize, verify_token
from shared.consumer import Reaction
from shared.errors import install_error_handlers
from shared.logging import bind_context, clear_context, configure_logging, get_logger
from shared.metrics import install_metrics
from shared.problems import DomainError
from shared.runtime import Runtime
from shared.settings import ServiceSettings

log = get_logger(__name__)
_CORRELATION_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
CORRELATION_HEADER = "X-Correlation-ID"


def get_runtime(request: Request) -> Runtime:
    """Returns the process's runtime (set by the app's lifespan)."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """Yields the request's session: it commits before the response, or rolls back."""
    async with runtime.db.session() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


def get_principal(request: Request, runtime: RuntimeDep) -> Principal:
    """Returns the caller of a non-public endpoint from `Authorization: Bearer <token>`."""
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


def require(*roles: Role) -> Callable[..., Principal]:
    """Dependency factory: the caller must have one of the roles (admin always passes)."""

    def dependency(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        authorize(principal, tuple(roles))
        return principal

    return dependency


OperatorDep = Annotated[Principal, Depends(require("operator"))]
AdminDep = Annotated[Principal, Depends(require("admin"))]


def create_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    routers: Sequence[APIRouter],
    reactions: Sequence[Reaction[Any]] = (),
    on_startup: Callable[[Runtime], Awaitable[None]] | None = None,
) -> FastAPI:
    """Builds a service's FastAPI app: logging, runtime lifespan, errors, health and routes."""
    configure_logging(
        settings.service_name,
        fmt=settings.effective_log_format,
        level=settings.log_level,
        log_dir=settings.log_dir,
    )

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

    app = FastAPI(title=title, lifespan=lifespan, version="1")
    install_error_handlers(app)
    install_metrics(app, settings)
    app.middleware("http")(_correlation_middleware(settings.service_name))
    app.include_router(_health_router())
    for router in routers:
        app.include_router(router)
    return app


def _correlation_middleware(service: str) -> Callable[..., Awaitable[Response]]:
    async def middleware(
        request: Request, call_next: Callable[..., Awaitable[Response]]
    ) -> Response:
        incoming = request.headers.get(CORRELATION_HEADER, "")
        correlation_id = incoming if _CORRELATION_RE.match(incoming) else str(uuid.uuid4())
        clear_context()
        bind_context(
            service=service, correlation_id=correlation_id, request_id=uuid.uuid4().hex[:12]
        )
        request.state.correlation_id = correlation_id
        started = time.perf_counter()
        response = await call_next(request)
        response.headers[CORRELATION_HEADER] = correlation_id
        if request.url.path not in ("/health", "/ready"):
            log.info(
                "http.request",
                method=request.method,
                path=request.url.path,
                status=response.status_code,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
            )
        return response

    return middleware


def correlation_id(request: Request) -> str:
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


def resolve_tenant(runtime: Runtime, principal: Principal, requested: str | None) -> Any:
    """Picks the tenant an operator acts for: asked for, else their own, else the default."""
    code = (
        requested
        or (principal.tenant if principal.tenant != "*" else None)
        or runtime.settings.default_tenant
    )
    tenant = runtime.tenant(code)
    if tenant is None:
        raise DomainError(
            f"Kecamatan '{code}' tidak dikenal.",
            status=422,
            field="tenant",
            code="data_tidak_valid",
        )
    authorize(principal, (principal.role,), tenant.code)
    bind_context(tenant=tenant.code)
    return tenant
