"""HTTP routes of the registration service: events, registrations, tokens."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Response, status
from sqlalchemy.exc import IntegrityError

from services.registration import repository, service
from services.registration.models import Activity
from services.registration.schemas import (
    ActivityCreate,
    ActivityRead,
    RegistrationAccepted,
    RegistrationCreate,
    RegistrationRead,
    TokenCreate,
    TokenRead,
)
from shared.auth import ALL_TENANTS, audit_token_issued, authorize, can_issue, issue_token
from shared.logging import get_logger
from shared.problems import DomainError
from shared.web import (
    AdminDep,
    CorrelationDep,
    OperatorDep,
    RuntimeDep,
    SessionDep,
    rate_limited,
    resolve_tenant,
)

router = APIRouter(prefix="/api/v1")
log = get_logger(__name__)


def _activity_read(runtime: RuntimeDep, activity: Activity) -> ActivityRead:
    read = ActivityRead.model_validate(activity)
    read.registration_url = f"{runtime.settings.effective_public_url}/daftar/{activity.id}"
    return read


@router.post(
    "/events", status_code=status.HTTP_201_CREATED, response_model=ActivityRead, tags=["operator"]
)
async def create_event(
    data: ActivityCreate, session: SessionDep, runtime: RuntimeDep, principal: OperatorDep
) -> ActivityRead:
    """Creates a socialisation event (operator of the tenant)."""
    tenant = resolve_tenant(runtime, principal, data.tenant)
    activity = await service.create_activity(
        session, tenant=tenant, data=data, created_by=principal.subject
    )
    log.info("registration.event_created", activity_id=str(activity.id), tenant=tenant.code)
    return _activity_read(runtime, activity)


@router.get("/events", response_model=list[ActivityRead], tags=["operator"])
async def list_events(
    session: SessionDep, runtime: RuntimeDep, principal: OperatorDep
) -> list[ActivityRead]:
    """Lists the socialisation events the operator may see."""
    tenant = None if principal.tenant == "*" else principal.tenant
    return [_activity_read(runtime, a) for a in await repository.list_activities(session, tenant)]


@router.get("/events/{event_id}", response_model=ActivityRead, tags=["public"])
async def get_event(event_id: uuid.UUID, session: SessionDep, runtime: RuntimeDep) -> ActivityRead:
    """Shows one socialisation event (public: the registration form needs it)."""
    return _activity_read(runtime, await service.get_activity(session, event_id))


@router.post(
    "/events/{event_id}/registrations",
    response_model=RegistrationAccepted,
    status_code=status.HTTP_201_CREATED,
    tags=["public"],
    dependencies=[Depends(rate_limited("registration"))],
)
async def register(
    event_id: uuid.UUID,
    data: RegistrationCreate,
    session: SessionDep,
    runtime: RuntimeDep,
    correlation_id: CorrelationDep,
    response: Response,
) -> RegistrationAccepted:
    """Registers a participant for an event (public)."""
    try:
        registration, created = await service.register_participant(
            session,
            activity_id=event_id,
            tenant_of=runtime.tenants,
            data=data,
            correlation_id=correlation_id,
        )
    except IntegrityError:
        # A simultaneous submission with the same phone committed first (SQLite has no row
        # lock to make them wait): answer with that registration, as for any repeat.
        await session.rollback()
        registration, created = await service.existing_registration(session, event_id, data), False
    log.info(
        "registration.participant_registered" if created else "registration.duplicate",
        registration_id=str(registration.id),
        activity_id=str(event_id),
        tenant=registration.tenant,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return RegistrationAccepted(
        registration=RegistrationRead.model_validate(registration),
        already_registered=not created,
        message=(
            "Pendaftaran berhasil. Sertifikat elektronik dan undangan grup WhatsApp akan "
            "dikirim ke nomor HP Anda."
            if created
            else "Nomor HP ini sudah terdaftar di kegiatan ini; pendaftaran sebelumnya tetap "
            "berlaku."
        ),
    )


@router.get(
    "/events/{event_id}/registrations", response_model=list[RegistrationRead], tags=["operator"]
)
async def list_registrations(
    event_id: uuid.UUID, session: SessionDep, principal: OperatorDep
) -> list[RegistrationRead]:
    """Lists an event's registrations (operator of the event's tenant)."""
    activity = await service.get_activity(session, event_id)
    authorize(principal, ("operator",), activity.tenant)
    rows = await repository.list_registrations(session, event_id)
    return [RegistrationRead.model_validate(r) for r in rows]


@router.post(
    "/tokens", response_model=TokenRead, status_code=status.HTTP_201_CREATED, tags=["admin"]
)
async def create_token(data: TokenCreate, runtime: RuntimeDep, principal: AdminDep) -> TokenRead:
    """Issues a role token for one kecamatan (admin only); it is shown once."""
    if data.tenant != ALL_TENANTS and runtime.tenant(data.tenant) is None:
        raise DomainError(
            f"Kecamatan '{data.tenant}' tidak dikenal.",
            status=422,
            field="tenant",
            code="data_tidak_valid",
        )
    can_issue(principal, data.role, data.tenant)  # type: ignore[arg-type]
    admin = runtime.settings.admin_token
    assert admin is not None  # AdminDep passed, so the admin token is set
    token = issue_token(
        admin.get_secret_value(),
        role=data.role,  # type: ignore[arg-type]
        tenant=data.tenant,
        subject=data.subject,
        ttl_days=data.ttl_days,
        not_after=principal.expires,
    )
    audit_token_issued(principal, token, role=data.role, tenant=data.tenant, subject=data.subject)
    return TokenRead(token=token, role=data.role, tenant=data.tenant, subject=data.subject)
