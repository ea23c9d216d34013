"""HTML pages and files of the registration service: form, confirmation, check-in, poster."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

import segno
from fastapi import APIRouter, Form, Response
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from services.registration import service
from services.registration.models import Activity
from services.registration.poster import render_poster
from shared.dates import as_utc, format_date_id
from shared.logging import get_logger
from shared.pages import StaticFileNotFound, page_templates
from shared.problem_map import answer_for
from shared.tenants import Tenant
from shared.web import RuntimeDep, SessionDep

router = APIRouter()
log = get_logger(__name__)
_templates = page_templates(__file__)
_STATIC = Path(__file__).parent / "static"
_FILES = {
    "registration.css": "text/css",
    "register.js": "text/javascript",
    "checkin.js": "text/javascript",
    "events.js": "text/javascript",
    "vendor/jsQR.js": "text/javascript",  # third-party, kept apart from our own code
}
_DAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
_ZONES = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}
DEFAULT_BRING = [
    "Halaman ini (kode QR) di HP, atau cetakannya",
    "Kartu pelajar, kartu mahasiswa atau KTP",
    "Alat tulis",
]


def when_text(activity: Activity, tenant: Tenant) -> str:
    """'Sabtu, 5 Desember 2026, 08.00-11.00 WIB', or the date alone for an all-day activity."""
    if activity.starts_at is None:
        return format_date_id(activity.date)
    zone = ZoneInfo(tenant.timezone)
    start = as_utc(activity.starts_at).astimezone(zone)
    text = f"{_DAYS[start.weekday()]}, {format_date_id(start.date())}, {start:%H.%M}"
    if activity.ends_at is not None:
        text += f"-{as_utc(activity.ends_at).astimezone(zone):%H.%M}"
    return f"{text} {_ZONES.get(tenant.timezone, tenant.timezone)}"


def _render(name: str, **context: object) -> HTMLResponse:
    return HTMLResponse(_templates.get_template(name).render(**context))


@router.get("/static/{name:path}", include_in_schema=False)
async def static_file(name: str) -> FileResponse:
    """Serves this service's own CSS and JavaScript, and the vendored jsQR (no CDN)."""
    if name not in _FILES:
        raise StaticFileNotFound()
    return FileResponse(_STATIC / name, media_type=_FILES[name])


@router.get("/daftar/{event_id}", response_class=HTMLResponse, tags=["public"])
async def registration_page(
    event_id: uuid.UUID, session: SessionDep, runtime: RuntimeDep
) -> HTMLResponse:
    """Shows the phone-friendly registration form of one activity (public)."""
    activity = await service.get_activity(session, event_id)
    tenant = service.tenant_for(runtime.tenants, activity.tenant)
    closed_reason = None
    try:
        service.check_window(activity, datetime.now(ZoneInfo("UTC")))
    except (service.RegistrationClosed, service.RegistrationNotOpenYet) as exc:
        closed_reason = answer_for(exc).message
    taken = activity.registered_count
    return _render(
        "register.html",
        activity=activity,
        tenant=tenant,
        when=when_text(activity, tenant),
        closed_reason=closed_reason,
        full=activity.capacity is not None and taken >= activity.capacity,
        schools=tenant.raw.get("schools") or [],
        consent_version=service.CONSENT_VERSION,
        api_url=f"/api/v1/events/{activity.id}/registrations",
    )


@router.get("/konfirmasi/{token}", response_class=HTMLResponse, tags=["public"])
async def confirmation_page(
    token: str, session: SessionDep, runtime: RuntimeDep, notice: str | None = None
) -> HTMLResponse:
    """Shows a participant's registration: code, status, activity, QR for check-in (secret link)."""
    registration = await service.by_token(session, token)
    activity = await service.get_activity(session, registration.activity_id)
    tenant = service.tenant_for(runtime.tenants, activity.tenant)
    qr = segno.make(registration.code, error="m").svg_inline(border=2, omitsize=True)
    notices = {"batal": "Pendaftaran Anda sudah dibatalkan. Terima kasih sudah mengabari."}
    return _render(
        "confirmation.html",
        activity=activity,
        tenant=tenant,
        registration=registration,
        token=token,
        when=when_text(activity, tenant),
        qr_svg=qr,
        bring=tenant.raw.get("registration_bring") or DEFAULT_BRING,
        notice=notices.get(notice or ""),
    )


@router.post("/konfirmasi/{token}/batal", tags=["public"])
async def cancel_by_participant(
    token: str, session: SessionDep, yakin: str = Form(default="")
) -> RedirectResponse:
    """The participant cancels from their confirmation link; the waiting list moves up."""
    registration = await service.by_token(session, token)
    if yakin != "ya":
        return RedirectResponse(f"/konfirmasi/{token}", status_code=303)
    _cancelled, promoted = await service.cancel(
        session, registration.id, by="participant", actor="participant"
    )
    log.info(
        "registration.cancelled",
        registration_id=str(registration.id),
        promoted_registration_id=str(promoted.id) if promoted else None,
        by="participant",
    )
    return RedirectResponse(f"/konfirmasi/{token}?notice=batal", status_code=303)


@router.get(
    "/operator/kegiatan",
    response_class=HTMLResponse,
    tags=["operator"],
    name="events_page",  # its v1 name: the OpenAPI operation id stays
)
async def activities_page(runtime: RuntimeDep) -> HTMLResponse:
    """The operator's activities (kegiatan) page (its calls need the operator's token)."""
    tenant = service.tenant_for(runtime.tenants, runtime.settings.default_tenant)
    return _render("events.html", tenant=tenant, zone=_ZONES.get(tenant.timezone, tenant.timezone))


@router.get(
    "/operator/kegiatan/{event_id}/check-in", response_class=HTMLResponse, tags=["operator"]
)
async def check_in_page(
    event_id: uuid.UUID, session: SessionDep, runtime: RuntimeDep
) -> HTMLResponse:
    """The door page: scan QR codes or search (its API calls need the operator's token)."""
    activity = await service.get_activity(session, event_id)
    tenant = service.tenant_for(runtime.tenants, activity.tenant)
    return _render(
        "checkin.html", activity=activity, tenant=tenant, when=when_text(activity, tenant)
    )


@router.get("/api/v1/events/{event_id}/poster.pdf", tags=["public"])
async def poster(event_id: uuid.UUID, session: SessionDep, runtime: RuntimeDep) -> Response:
    """A printable A4 poster with a QR code to the activity's sign-up page."""
    activity = await service.get_activity(session, event_id)
    tenant = service.tenant_for(runtime.tenants, activity.tenant)
    url = f"{runtime.settings.effective_public_url}/daftar/{activity.id}"
    pdf = await asyncio.to_thread(
        partial(
            render_poster,
            activity=activity,
            tenant=tenant,
            when=when_text(activity, tenant),
            url=url,
            qr_svg=segno.make(url, error="m").svg_inline(border=2, omitsize=True),
        )
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="poster-{str(activity.id)[:8]}.pdf"'},
    )
