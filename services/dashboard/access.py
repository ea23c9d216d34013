"""Who may see the dashboard: an operator token as a bearer header or in the login cookie.

A browser page cannot send a bearer header, so /dashboard/masuk exchanges the token for an
HttpOnly, SameSite=Strict cookie; API clients (and `menjamu trace`) send the header.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from shared.auth import AuthError, Principal, authorize, verify_token
from shared.logging import bind_context
from shared.runtime import Runtime
from shared.web import RuntimeDep

COOKIE = "menjamu_dashboard"


def principal_from(request: Request, runtime: Runtime) -> Principal:
    """The operator calling, from `Authorization: Bearer` or the dashboard cookie."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip() if scheme.lower() == "bearer" else request.cookies.get(COOKIE, "")
    if not token:
        raise AuthError("Dasbor memerlukan token operator. Masuk di /dashboard/masuk.")
    admin = runtime.settings.admin_token
    principal = verify_token(admin.get_secret_value() if admin else None, token)
    authorize(principal, ("operator",))
    bind_context(principal_role=principal.role, principal=principal.subject)
    return principal


async def dashboard_operator(request: Request, runtime: RuntimeDep) -> Principal:
    """Dependency: an operator (or admin) of the dashboard (async: its bound log context must
    reach the route, which a sync dependency's worker thread would not)."""
    return principal_from(request, runtime)


DashboardOperator = Annotated[Principal, Depends(dashboard_operator)]


def tenant_codes(runtime: Runtime, principal: Principal) -> list[str]:
    """The tenants a principal may read (all of them for an admin)."""
    if principal.tenant == "*":
        return sorted(runtime.tenants)
    return [principal.tenant]
