"""HTTP routes of the survey service: units, responses (public), the IKM report (operator)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status

from services.survey import repository, service
from services.survey.schemas import ResponseAccepted, ResponseCreate, UnitRead
from shared.logging import get_logger
from shared.problems import NotFound
from shared.runtime import Runtime
from shared.tenants import Tenant
from shared.web import (
    CorrelationDep,
    OperatorDep,
    RuntimeDep,
    SessionDep,
    rate_limited,
    resolve_tenant,
)

router = APIRouter(prefix="/api/v1")
log = get_logger(__name__)

# Labels for this service's fields until shared/errors.py carries them (see the report).

THANKS = "Terima kasih, penilaian Anda sudah kami terima."
TenantQuery = Annotated[str | None, Query(description="Kecamatan code; default: the main one.")]


def public_tenant(runtime: Runtime, code: str | None) -> Tenant:
    """The tenant a public request is for: the one named, else the deployment's default."""
    tenant = runtime.tenant(code or runtime.settings.default_tenant)
    if tenant is None:
        raise NotFound(f"Kecamatan '{code}' tidak dikenal.", field="tenant")
    return tenant


def form_url(runtime: Runtime, tenant: str, unit: str) -> str:
    """The public address of a unit's survey form (what its QR code points to)."""
    url = f"{runtime.settings.effective_public_url}/survei/{unit}"
    return url if tenant == runtime.settings.default_tenant else f"{url}?tenant={tenant}"


@router.get("/units", response_model=list[UnitRead], tags=["public"])
async def list_units(
    session: SessionDep, runtime: RuntimeDep, tenant: TenantQuery = None
) -> list[UnitRead]:
    """Lists a kecamatan's service units that take survey answers (public)."""
    found = public_tenant(runtime, tenant)
    units = await repository.list_active_units(session, found.code)
    return [
        UnitRead(
            tenant=u.tenant, code=u.code, name=u.name, form_url=form_url(runtime, u.tenant, u.code)
        )
        for u in units
    ]


@router.post(
    "/units/{unit}/responses",
    response_model=ResponseAccepted,
    status_code=status.HTTP_201_CREATED,
    tags=["public"],
    dependencies=[Depends(rate_limited("survey"))],
)
async def submit_response(
    unit: str,
    data: ResponseCreate,
    session: SessionDep,
    runtime: RuntimeDep,
    correlation_id: CorrelationDep,
    tenant: TenantQuery = None,
) -> ResponseAccepted:
    """Stores a citizen's survey answers for a unit (public, from the QR code)."""
    found = public_tenant(runtime, tenant)
    response = await service.submit_response(
        session, tenant=found, unit_code=unit, data=data, correlation_id=correlation_id
    )
    log.info(
        "survey.response_submitted",
        response_id=str(response.id),
        unit=response.unit,
        tenant=response.tenant,
    )
    return ResponseAccepted(id=response.id, message=THANKS)


@router.get("/ikm", tags=["operator"])
async def get_ikm(
    session: SessionDep,
    runtime: RuntimeDep,
    principal: OperatorDep,
    unit: Annotated[str | None, Query(description="Unit code; default: all units.")] = None,
    start: Annotated[date | None, Query(alias="from", description="First local date.")] = None,
    end: Annotated[date | None, Query(alias="to", description="Last local date.")] = None,
    scheme: Annotated[str, Query(description="Interval table.")] = "permenpan-14-2017",
    population: Annotated[int | None, Query(ge=1, le=100_000_000)] = None,
    tenant: TenantQuery = None,
) -> dict[str, Any]:
    """Computes the IKM of a unit or of all units over a period (operator of the tenant)."""
    found = resolve_tenant(runtime, principal, tenant)
    return await service.ikm_report(
        session,
        tenant=found,
        unit_code=unit,
        start=start,
        end=end,
        scheme_id=scheme,
        population=population,
    )
