"""Operator routes: the respondents list and the exports (CSV, the office's XLSX)."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from services.survey import exports, render, reporting, service
from services.survey.api import form_url
from shared.auth import Principal
from shared.contracts import utcnow
from shared.dates import local_date
from shared.logging import get_logger
from shared.web import OperatorDep, RuntimeDep, SessionDep, resolve_tenant

router = APIRouter(prefix="/api/v1", tags=["operator"])
log = get_logger(__name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_LIMIT = 50_000


class Filters:
    """The respondent filters every list and export takes."""

    def __init__(
        self,
        unit: Annotated[str | None, Query(max_length=64)] = None,
        period: Annotated[str | None, Query(max_length=16)] = None,
        start: Annotated[date | None, Query(alias="from")] = None,
        end: Annotated[date | None, Query(alias="to")] = None,
        gender: Annotated[str | None, Query(max_length=1)] = None,
        education: Annotated[str | None, Query(max_length=8)] = None,
        occupation: Annotated[str | None, Query(max_length=20)] = None,
        service_type: Annotated[str | None, Query(max_length=160)] = None,
        q: Annotated[str | None, Query(max_length=100, description="Search name/saran.")] = None,
        show_phone: Annotated[bool, Query(description="Unmasked phones (logged).")] = False,
        tenant: Annotated[str | None, Query(max_length=64)] = None,
    ) -> None:
        self.period, self.start, self.end, self.tenant = period, start, end, tenant
        self.show_phone = show_phone
        self.values: dict[str, str | None] = {
            "unit": unit, "gender": gender, "education": education, "occupation": occupation,
            "service_type": service_type, "search": q,
        }  # fmt: skip


FiltersDep = Annotated[Filters, Depends()]


async def _select(
    session: Any, runtime: Any, principal: Principal, f: Filters, limit: int | None, offset: int
) -> tuple[Any, list[Any], int, date, date]:
    found = resolve_tenant(runtime, principal, f.tenant)
    rows, total, first, last = await reporting.respondents(
        session, tenant=found, period=f.period, start=f.start, end=f.end, limit=limit,
        offset=offset, **f.values,
    )  # fmt: skip
    if f.show_phone:
        # Who saw phone numbers, and how many: an audit line without the numbers themselves.
        log.info(
            "survey.phones_revealed", principal=principal.subject, tenant=found.code,
            rows=sum(1 for r in rows if r.phone),
        )  # fmt: skip
    return found, rows, total, first, last


@router.get("/responses")
async def list_respondents(
    session: SessionDep,
    runtime: RuntimeDep,
    principal: OperatorDep,
    filters: FiltersDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    """Lists respondents (search, period, unit, profile filters), newest first, by page."""
    _t, rows, total, first, last = await _select(
        session, runtime, principal, filters, limit, offset
    )
    return {
        "total": total, "limit": limit, "offset": offset, "from": first.isoformat(),
        "to": last.isoformat(),
        "items": [exports.respondent_row(r, phones=filters.show_phone) for r in rows],
    }  # fmt: skip


@router.get("/exports/respondents.csv")
async def export_csv(
    session: SessionDep, runtime: RuntimeDep, principal: OperatorDep, filters: FiltersDep
) -> Response:
    """The respondents as CSV (phones masked unless show_phone)."""
    _t, rows, _n, first, last = await _select(session, runtime, principal, filters, EXPORT_LIMIT, 0)
    return Response(
        exports.respondents_csv(rows, phones=filters.show_phone),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="responden-{first}-{last}.csv"'},
    )


@router.get("/exports/ikm.xlsx")
async def export_xlsx(
    session: SessionDep, runtime: RuntimeDep, principal: OperatorDep, filters: FiltersDep
) -> Response:
    """The office's IKM workbook: respondents with U1..U9 and the NRR/IKM block under them."""
    found, rows, _n, first, last = await _select(
        session, runtime, principal, filters, EXPORT_LIMIT, 0
    )
    report = await reporting.ikm_report(
        session, tenant=found, unit_code=filters.values["unit"], start=first, end=last,
        scheme_id="permenpan-14-2017", population=None,
    )  # fmt: skip
    title = f"Survei Kepuasan Masyarakat {report['unit_name'] or found.name}"
    content = exports.office_workbook(rows, report, title=title, phones=filters.show_phone)
    return Response(
        content, media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="ikm-{first}-{last}.xlsx"'},
    )  # fmt: skip


@router.get("/exports/ikm.pdf")
async def export_pdf(
    session: SessionDep,
    runtime: RuntimeDep,
    principal: OperatorDep,
    filters: FiltersDep,
    population: Annotated[int | None, Query(ge=1, le=100_000_000)] = None,
    scheme: Annotated[str, Query(max_length=40)] = "permenpan-14-2017",
    weight: Annotated[str, Query(max_length=8)] = "exact",
) -> Response:
    """The IKM report as PDF: headline, per-unsur chart and table, trend, tables, sample."""
    found = resolve_tenant(runtime, principal, filters.tenant)
    report = await reporting.ikm_report(
        session, tenant=found, unit_code=filters.values["unit"], start=filters.start,
        end=filters.end, period=filters.period, scheme_id=scheme, population=population,
        weight=weight,
    )  # fmt: skip
    title = f"Laporan Survei Kepuasan Masyarakat {report['unit_name'] or found.name}"
    pdf = await asyncio.to_thread(
        render.render_report, report, title=title, generated=local_date(utcnow(), found.timezone)
    )
    log.info("survey.report_rendered", unit=report["unit"], bytes=len(pdf))
    name = f"laporan-ikm-{report['from']}-{report['to']}.pdf"
    return Response(
        pdf, media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )  # fmt: skip


@router.get("/units/{unit}/poster.pdf")
async def unit_poster(
    unit: str,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: OperatorDep,
    tenant: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """A printable QR poster for a unit's counter: its name, the call to action, the QR code."""
    found = resolve_tenant(runtime, principal, tenant)
    unit_row = await service.get_active_unit(session, found, unit)
    url = form_url(runtime, found.code, unit_row.code)
    pdf = await asyncio.to_thread(
        render.render_poster, unit_name=unit_row.name, tenant_name=found.name, url=url
    )
    return Response(
        pdf, media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="poster-{unit_row.code}.pdf"'},
    )  # fmt: skip
