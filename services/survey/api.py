"""HTTP routes of the survey service: units, responses (public), the IKM report (operator)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response, UploadFile, status

from services.survey import imports, reporting, repository, service
from services.survey.context import ContextDep
from services.survey.intake import Intake
from services.survey.schemas import PaperResponseCreate, ResponseAccepted, UnitRead
from services.survey.statuses import Channel
from shared.auth import Principal
from shared.logging import get_logger, note_request
from shared.problems import Problem
from shared.runtime import Runtime
from shared.tenants import Tenant, TenantNotServed
from shared.web import (
    CorrelationDep,
    OperatorDep,
    PublicWrite,
    RuntimeDep,
    SessionDep,
    get_principal,
    public_write,
    require,
    resolve_tenant,
)

router = APIRouter(prefix="/api/v1")
log = get_logger(__name__)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
THANKS = "Terima kasih, penilaian Anda sudah kami terima."
TenantQuery = Annotated[str | None, Query(description="Kecamatan code; default: the main one.")]


class PaperTimeNotAllowed(Problem):
    """Only an operator typing a paper form may say when it was filled in."""


class ImportTooLarge(Problem):
    """An import file over the limit (fact: max_mb)."""


class ImportUnreadable(Problem):
    """An import file that cannot be read as a table (fact: detail, in Indonesian)."""


class UnknownTemplateKind(Problem):
    """The import template exists only as .csv and .xlsx."""


def public_tenant(runtime: Runtime, code: str | None) -> Tenant:
    """The tenant a public request is for: the one named, else the deployment's default."""
    tenant = runtime.tenant(code or runtime.settings.default_tenant)
    if tenant is None:
        raise TenantNotServed(tenant=code)
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


DEVICE_COOKIE = "survei_perangkat"


def new_form_token() -> str:
    """A fresh per-load token for the form page's hidden field (unguessable, URL-safe)."""
    return secrets.token_urlsafe(18)


async def optional_operator(request: Request) -> Principal | None:
    """The operator behind a request that carries a token; None for the anonymous public."""
    if not request.headers.get("authorization"):
        return None
    return await require("operator")(await get_principal(request))


OptionalOperatorDep = Annotated[Principal | None, Depends(optional_operator)]


def device_of(request: Request) -> str:
    """What identifies the submitting device: the form's cookie, else address + user agent."""
    cookie = request.cookies.get(DEVICE_COOKIE)
    if cookie:
        return f"cookie:{cookie}"
    host = request.client.host if request.client else "-"
    return f"addr:{host}|{request.headers.get('user-agent', '')}"


@router.post(
    "/units/{unit}/responses",
    response_model=ResponseAccepted,
    status_code=status.HTTP_201_CREATED,
    tags=["public"],
    responses={200: {"description": "A resubmission: the first response is returned."}},
)
async def submit_response(
    unit: str,
    data: PaperResponseCreate,
    request: Request,
    response: Response,
    write: Annotated[PublicWrite, Depends(public_write("survey"))],
    operator: OptionalOperatorDep,
    context: ContextDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    tenant: TenantQuery = None,
) -> ResponseAccepted:
    """Stores survey answers for a unit: a citizen's (public, QR code) or a paper form's."""
    runtime = write.runtime
    if operator is None and data.submitted_at is not None:
        raise PaperTimeNotAllowed()
    found = (
        resolve_tenant(runtime, operator, tenant) if operator else public_tenant(runtime, tenant)
    )
    settings = runtime.settings
    intake = Intake(
        channel=Channel.KERTAS if operator else Channel.QR,
        device=None if operator else device_of(request),
        idempotency_key=idempotency_key,
        form_token=data.form_token,
        submitted_at=data.submitted_at,
        guide_code=data.guide_code,
        duplicate_window_s=getattr(settings, "duplicate_window_s", 600),
    )
    stored, created = await service.submit_response(
        write.session, tenant=found, unit_code=unit, data=data,
        correlation_id=write.correlation_id, intake=intake, units=context.units,
    )  # fmt: skip
    if not created:
        response.status_code = status.HTTP_200_OK
    note_request(
        "survey.response_submitted" if created else "survey.response_resubmitted",
        response_id=str(stored.id), unit=stored.unit, tenant=stored.tenant, channel=intake.channel,
    )  # fmt: skip
    # The form page takes its next load's token from the answer (the next citizen on a tablet).
    following = new_form_token() if data.form_token else None
    return ResponseAccepted(id=stored.id, message=THANKS, next_form_token=following)


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
    period: Annotated[
        str | None, Query(max_length=16, description="2025-03, 2025-Q1, 2025-S1 or 2025.")
    ] = None,
    weight: Annotated[
        str, Query(max_length=8, description="Headline weight: exact, 0.111 or 0.11.")
    ] = "exact",
    tenant: TenantQuery = None,
) -> dict[str, Any]:
    """Computes the IKM of a unit or of all units over a period (operator of the tenant)."""
    found = resolve_tenant(runtime, principal, tenant)
    return await reporting.ikm_report(
        session,
        tenant=found,
        unit_code=unit,
        start=start,
        end=end,
        scheme_id=scheme,
        population=population,
        period=period,
        weight=weight,
    )


MAX_IMPORT_BYTES = 5 * 1024 * 1024


@router.post("/units/{unit}/imports", tags=["operator"])
async def import_paper_forms(
    unit: str,
    file: UploadFile,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: OperatorDep,
    correlation_id: CorrelationDep,
    tenant: TenantQuery = None,
) -> dict[str, Any]:
    """Imports paper forms from CSV or XLSX; reports every bad row and imports the good ones."""
    found = resolve_tenant(runtime, principal, tenant)
    content = await file.read(MAX_IMPORT_BYTES + 1)
    if len(content) > MAX_IMPORT_BYTES:
        raise ImportTooLarge(max_mb=MAX_IMPORT_BYTES // (1024 * 1024))
    try:
        parsed = imports.parse_rows(
            imports.read_table(file.filename or "", content), found.timezone
        )
    except imports.ImportFileError as exc:
        raise ImportUnreadable(detail=str(exc)) from None
    outcome = await service.import_forms(
        session, tenant=found, unit_code=unit, rows=parsed.rows,
        file_key=hashlib.sha256(content).hexdigest()[:32], correlation_id=correlation_id,
    )  # fmt: skip
    log.info(
        "survey.forms_imported", unit=unit, imported=outcome.imported,
        duplicates=outcome.duplicates, rejected_rows=len({p.row for p in parsed.problems}),
    )  # fmt: skip
    return {
        "imported": outcome.imported,
        "duplicates": outcome.duplicates,
        "rejected_rows": sorted({p.row for p in parsed.problems}),
        "problems": [asdict(p) for p in parsed.problems],
    }


@router.get("/imports/template.{kind}", tags=["public"])
async def import_template(kind: str) -> Response:
    """The import template (CSV or XLSX): the expected columns and one example row."""
    if kind == "csv":
        return Response(
            imports.template_csv(), media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="templat-skm.csv"'},
        )  # fmt: skip
    if kind == "xlsx":
        return Response(
            imports.template_xlsx(), media_type=XLSX,
            headers={"Content-Disposition": 'attachment; filename="templat-skm.xlsx"'},
        )  # fmt: skip
    raise UnknownTemplateKind()
