"""HTTP routes of sign-ups, the waiting list, check-in, lists, exports and reports."""

from __future__ import annotations

import uuid
from datetime import date
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Response, status
from fastapi.responses import JSONResponse

from services.registration import door, exports, replay, repository, service
from services.registration.api import operator_activity
from services.registration.models import Registration
from services.registration.schemas import (
    CancelCreate,
    CancelResult,
    CheckInCreate,
    CheckInResult,
    RegistrationAccepted,
    RegistrationCreate,
    RegistrationRead,
)
from shared.logging import get_logger, note_request
from shared.phone import normalize_phone
from shared.privacy import mask_phone
from shared.problems import Problem
from shared.web import OperatorDep, PublicWrite, RuntimeDep, SessionDep, public_write

router = APIRouter(prefix="/api/v1")
log = get_logger(__name__)

REGISTERED_TEXT = (
    "Pendaftaran berhasil. Simpan tautan konfirmasi Anda: di sana ada kode QR untuk hadir. "
    "Sertifikat elektronik dan undangan grup WhatsApp akan dikirim ke nomor HP Anda."
)
WAITLISTED_TEXT = (
    "Kuota kegiatan sudah penuh. Anda masuk daftar tunggu nomor {position}; kami kabari "
    "lewat WhatsApp bila mendapat tempat. Simpan tautan konfirmasi Anda."
)
REPEAT_TEXT = (
    "Nomor HP ini sudah terdaftar di kegiatan ini; pendaftaran sebelumnya tetap berlaku. "
    "Buka tautan konfirmasi yang Anda terima saat mendaftar."
)


def registration_read(registration: Registration, *, show_phone: bool = False) -> RegistrationRead:
    """A registration for an answer; the phone masked unless show_phone."""
    read = RegistrationRead.model_validate(registration)
    if not show_phone:
        read.phone = mask_phone(registration.phone)
    return read


def _answer(runtime: RuntimeDep, signup: service.SignUp) -> dict[str, Any]:
    return _accepted(runtime, signup).model_dump(mode="json")


def _accepted(runtime: RuntimeDep, signup: service.SignUp) -> RegistrationAccepted:
    if not signup.created:
        # Nothing the caller did not send: no name, school, phone or id of the first one.
        return RegistrationAccepted(
            registration=None, already_registered=True, confirmation_url=None, message=REPEAT_TEXT
        )
    registration = signup.registration
    waiting = registration.status == "waitlisted"
    return RegistrationAccepted(
        registration=registration_read(registration, show_phone=True),
        already_registered=False,
        confirmation_url=f"{runtime.settings.effective_public_url}/konfirmasi/{signup.token}",
        message=WAITLISTED_TEXT.format(position=registration.waitlist_position)
        if waiting
        else REGISTERED_TEXT,
    )


@router.post(
    "/events/{event_id}/registrations",
    response_model=RegistrationAccepted,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": RegistrationAccepted, "description": "already registered"}},
    tags=["public"],
)
async def register(
    event_id: uuid.UUID,
    data: RegistrationCreate,
    write: Annotated[PublicWrite, Depends(public_write("registration"))],
    idempotency_key: str | None = Header(default=None, alias="Idempotency-Key"),
) -> Any:
    """Registers a participant (public); a full activity puts them on the waiting list.

    An Idempotency-Key's answer is stored with the registration (in the sign-up's statement on
    PostgreSQL, else by INSERT ... ON CONFLICT). When the key already holds an answer, the work is
    rolled back and the stored answer given (or a 422 for another body), also when the repeat
    itself would be refused (e.g. the window closed since).
    """
    session, runtime = write.session, write.runtime
    scope, digest = f"register:{event_id}", ""
    key = replay.check_key(idempotency_key) if idempotency_key is not None else None
    keyed = None
    if key is not None:
        digest = replay.request_hash(data.model_dump())
        await replay.prune_if_due(session, event_id)
        keyed = service.KeyedAnswer(scope, key, digest, partial(_answer, runtime))
    try:
        signup = await service.register_participant(
            session,
            activity_id=event_id,
            tenant_of=runtime.tenants,
            data=data,
            correlation_id=write.correlation_id,
            answer=keyed,
        )
    except Problem:
        stored = await replay.stored_answer(session, scope, key, digest) if key else None
        if stored is None:
            raise
        return JSONResponse(status_code=stored[0], content=stored[1])
    code = status.HTTP_201_CREATED if signup.created else status.HTTP_200_OK
    body = signup.answer if signup.answer is not None else _answer(runtime, signup)
    if (
        key is not None
        and not signup.key_kept
        and (stored := await replay.keep_answer(session, scope, key, digest, code, body))
    ):
        # The key was used before (a retry, a double tap): the first answer wins.
        return JSONResponse(status_code=stored[0], content=stored[1])
    _log_sign_up(signup, event_id)
    return JSONResponse(status_code=code, content=body)


def _log_sign_up(signup: service.SignUp, event_id: uuid.UUID) -> None:
    """Puts the sign-up on the request's log line (one line per request)."""
    note_request(
        "registration.participant_registered" if signup.created else "registration.duplicate",
        registration_id=str(signup.registration.id) if signup.created else None,
        status=signup.registration.status if signup.created else None,
        activity_id=str(event_id),
    )


@router.get(
    "/events/{event_id}/registrations", response_model=list[RegistrationRead], tags=["operator"]
)
async def list_registrations(
    event_id: uuid.UUID,
    session: SessionDep,
    principal: OperatorDep,
    status_filter: Literal["registered", "waitlisted", "cancelled", "checked_in"] | None = Query(
        default=None, alias="status"
    ),
    q: str | None = Query(default=None, max_length=120, description="Name, code or phone."),
    show_phone: bool = False,
) -> list[RegistrationRead]:
    """Lists an activity's registrations with status; phones masked unless show_phone (logged)."""
    await operator_activity(session, principal, event_id)
    rows = await _search(session, event_id, status_filter, q)
    if show_phone:
        log.info("registration.phones_revealed", activity_id=str(event_id), count=len(rows))
    return [registration_read(r, show_phone=show_phone) for r in rows]


async def _search(
    session: SessionDep, activity_id: uuid.UUID, status_filter: str | None, q: str | None
) -> list[Registration]:
    phone = None
    if q:
        try:
            phone = normalize_phone(q)
        except ValueError:
            phone = None
    return await repository.list_registrations(
        session, activity_id, status=status_filter, search=(q or "").strip() or None, phone=phone
    )


@router.get("/events/{event_id}/registrations/export", tags=["operator"])
async def export_registrations(
    event_id: uuid.UUID,
    session: SessionDep,
    principal: OperatorDep,
    fmt: Literal["csv", "xlsx"] = Query(default="csv", alias="format"),
    show_phone: bool = False,
) -> Response:
    """Exports an activity's participants as CSV or XLSX; phones masked unless asked (logged)."""
    activity = await operator_activity(session, principal, event_id)
    table = exports.rows(
        await repository.list_registrations(session, event_id), show_phone=show_phone
    )
    if show_phone:
        log.info("registration.phones_revealed", activity_id=str(event_id), count=len(table))
    name = f"peserta-{activity.date.isoformat()}-{str(activity.id)[:8]}"
    if fmt == "xlsx":
        return Response(
            exports.to_xlsx(table, activity.title),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )
    return Response(
        exports.to_csv(table),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@router.post("/events/{event_id}/cancellations", response_model=CancelResult, tags=["operator"])
async def cancel_registration(
    event_id: uuid.UUID, data: CancelCreate, session: SessionDep, principal: OperatorDep
) -> CancelResult:
    """An operator cancels a registration; the first waitlisted takes the place."""
    await operator_activity(session, principal, event_id)
    _cancelled, promoted = await service.cancel(
        session,
        data.registration_id,
        by="operator",
        actor=principal.subject,
        activity_id=event_id,
    )
    log.info(
        "registration.cancelled",
        registration_id=str(data.registration_id),
        promoted_registration_id=str(promoted.id) if promoted else None,
        by="operator",
    )
    return CancelResult(
        status="cancelled",
        message="Pendaftaran dibatalkan."
        + (" Satu peserta dari daftar tunggu mendapat tempat." if promoted else ""),
        promoted_registration_id=promoted.id if promoted else None,
    )


@router.post("/events/{event_id}/check-ins", response_model=CheckInResult, tags=["operator"])
async def check_in(
    event_id: uuid.UUID, data: CheckInCreate, session: SessionDep, principal: OperatorDep
) -> CheckInResult:
    """Checks a participant in by code; a second scan is harmless and says so."""
    await operator_activity(session, principal, event_id)
    registration, already = await door.check_in(
        session, event_id, data.code, actor=principal.subject
    )
    log.info(
        "registration.checked_in",
        registration_id=str(registration.id),
        activity_id=str(event_id),
        already=already,
    )
    return CheckInResult(
        already_checked_in=already,
        message=f"{registration.name} sudah tercatat hadir sebelumnya; tidak dicatat dua kali."
        if already
        else f"{registration.name} tercatat hadir.",
        registration=registration_read(registration),
    )


@router.get("/reports/desa", tags=["operator"])
async def desa_report(
    session: SessionDep,
    runtime: RuntimeDep,
    principal: OperatorDep,
    date_from: date | None = Query(default=None, alias="from"),
    date_to: date | None = Query(default=None, alias="to"),
) -> dict[str, Any]:
    """Per desa and jenjang across activities: sign-ups, attendance, certificates (issued, due)."""
    tenant_code = runtime.settings.default_tenant if principal.tenant == "*" else principal.tenant
    tenant = runtime.tenant(tenant_code)
    pairs = await repository.registrations_between(session, tenant_code, date_from, date_to)
    levels = tenant.participant_levels if tenant else []
    return {"tenant": tenant_code, "rows": exports.desa_summary(pairs, levels)}
