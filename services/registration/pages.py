"""Public HTML pages of the registration service: the registration form."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from services.registration import service
from shared.dates import format_date_id
from shared.pages import page_templates
from shared.web import RuntimeDep, SessionDep

router = APIRouter()
_templates = page_templates(__file__)


@router.get("/daftar/{event_id}", response_class=HTMLResponse, tags=["public"])
async def registration_page(
    event_id: uuid.UUID, session: SessionDep, runtime: RuntimeDep
) -> HTMLResponse:
    """Shows the phone-friendly registration form of one event (public)."""
    activity = await service.get_activity(session, event_id)
    tenant = runtime.tenants[activity.tenant]
    html = _templates.get_template("register.html").render(
        activity=activity,
        tenant=tenant,
        activity_date=format_date_id(activity.date),
        api_url=f"/api/v1/events/{activity.id}/registrations",
    )
    return HTMLResponse(html)
