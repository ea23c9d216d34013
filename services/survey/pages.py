"""The public survey page a unit's QR code opens (Bahasa Indonesia, phone-sized)."""

from __future__ import annotations

import uuid
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from services.survey import service
from services.survey.api import TenantQuery, new_form_token, public_tenant
from services.survey.context import ContextDep
from services.survey.questionnaire import QUESTIONS
from services.survey.schemas import EDUCATIONS, OCCUPATIONS
from shared.pages import csp_nonce
from shared.web import RuntimeDep, SessionDep

pages = APIRouter(tags=["public"])
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.globals["csp_nonce"] = csp_nonce


@pages.get("/survei/{unit}", response_class=HTMLResponse)
async def survey_form(
    unit: str,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    context: ContextDep,
    tenant: TenantQuery = None,
) -> HTMLResponse:
    """Shows the survey form of a unit (public)."""
    found = public_tenant(runtime, tenant)
    unit_row = await service.get_active_unit(session, found, unit, context.units)
    services = found.raw.get("services") or []
    return templates.TemplateResponse(
        request,
        "form.html",
        {
            "form_token": new_form_token(),
            "tenant": found,
            "unit": unit_row,
            "questions": QUESTIONS,
            "services": services,
            "educations": EDUCATIONS,
            "occupations": OCCUPATIONS,
            "post_url": f"/api/v1/units/{unit_row.code}/responses?tenant={found.code}",
        },
        # Each load carries its own token: never serve a stored copy of the page.
        headers={"Cache-Control": "no-store"},
    )


@pages.get("/dashboard/survei", response_class=HTMLResponse, tags=["operator"])
async def live_page(request: Request, runtime: RuntimeDep, unit: str | None = None) -> HTMLResponse:
    """The operator's live survey page (its data stream needs the operator's token)."""
    tenant = runtime.tenants[runtime.settings.default_tenant]
    return templates.TemplateResponse(request, "live.html", {"tenant": tenant, "unit": unit})


@pages.get("/dashboard/survei/tiket", response_class=HTMLResponse, tags=["operator"])
async def tickets_page(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    """The operator's list of saran/kritik tickets (its data needs the operator's token)."""
    tenant = runtime.tenants[runtime.settings.default_tenant]
    return templates.TemplateResponse(request, "tickets.html", {"tenant": tenant})


@pages.get("/dashboard/survei/tiket/{ticket_id}", response_class=HTMLResponse, tags=["operator"])
async def ticket_page(request: Request, runtime: RuntimeDep, ticket_id: uuid.UUID) -> HTMLResponse:
    """One ticket: the saran, its status and the operator's answer (token typed into the page)."""
    tenant = runtime.tenants[runtime.settings.default_tenant]
    return templates.TemplateResponse(
        request, "ticket.html", {"tenant": tenant, "ticket_id": str(ticket_id)}
    )
