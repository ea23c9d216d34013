"""HTTP routes of the registration service: activities (kegiatan) and tokens.

The API calls an activity an event (`/api/v1/events`, `event_id`), as v1 published it: the
routes keep those paths and parameter names, and their v1 route names (`name=`), from which
FastAPI derives the OpenAPI operation ids that generated clients name their methods after.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, status
from sqlalchemy.ext.asyncio import AsyncSession

from services.registration import activities, repository, service
from services.registration.models import Activity, RegistrationStatus
from services.registration.schemas import (
    ActivityCreate,
    ActivityRead,
    ActivityUpdate,
    TokenCreate,
    TokenRead,
)
from shared.auth import (
    ALL_TENANTS,
    Principal,
    audit_token_issued,
    authorize,
    can_issue,
    issue_token,
)
from shared.dates import as_utc
from shared.logging import get_logger
from shared.runtime import Runtime
from shared.tenants import UnknownOperatorTenant
from shared.web import AdminDep, OperatorDep, RuntimeDep, SessionDep, resolve_tenant

router = APIRouter(prefix="/api/v1")
log = get_logger(__name__)


def _local(value: datetime | None, zone: str) -> datetime | None:
    return as_utc(value).astimezone(ZoneInfo(zone)) if value else None


async def activity_reads(
    session: AsyncSession, runtime: Runtime, rows: list[Activity]
) -> list[ActivityRead]:
    """Builds the activity answers: times in the tenant's zone, counts, registration link."""
    counts = await repository.status_counts(session, [a.id for a in rows])
    reads = []
    for activity in rows:
        tenant = runtime.tenant(activity.tenant)
        zone = tenant.timezone if tenant else "Asia/Jakarta"
        read = ActivityRead.model_validate(activity)
        read.venue = activity.location
        for key in ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at"):
            setattr(read, key, _local(getattr(activity, key), zone))
        read.registered_count = counts.get((activity.id, RegistrationStatus.REGISTERED), 0)
        read.waitlisted_count = counts.get((activity.id, RegistrationStatus.WAITLISTED), 0)
        read.registration_url = f"{runtime.settings.effective_public_url}/daftar/{activity.id}"
        reads.append(read)
    return reads


async def operator_activity(
    session: AsyncSession, principal: Principal, event_id: uuid.UUID
) -> Activity:
    """Gets an activity the operator's tenant owns (403 for another tenant's)."""
    activity = await service.get_activity(session, event_id)
    authorize(principal, ("operator",), activity.tenant)
    return activity


@router.post(
    "/events",
    status_code=status.HTTP_201_CREATED,
    response_model=ActivityRead,
    tags=["operator"],
    name="create_event",
)
async def create_activity(
    data: ActivityCreate, session: SessionDep, runtime: RuntimeDep, principal: OperatorDep
) -> ActivityRead:
    """Creates a socialisation activity (operator of the tenant)."""
    tenant = resolve_tenant(runtime, principal, data.tenant)
    activity = await activities.create_activity(
        session, tenant=tenant, data=data, created_by=principal.subject
    )
    log.info("registration.activity_created", activity_id=str(activity.id), tenant=tenant.code)
    return (await activity_reads(session, runtime, [activity]))[0]


@router.get("/events", response_model=list[ActivityRead], tags=["operator"], name="list_events")
async def list_activities(
    session: SessionDep,
    runtime: RuntimeDep,
    principal: OperatorDep,
    desa: str | None = Query(default=None, max_length=120),
    date_from: date | None = Query(default=None, alias="from"),
    date_to: date | None = Query(default=None, alias="to"),
) -> list[ActivityRead]:
    """Lists the operator's activities, optionally of one desa and between two dates."""
    tenant = None if principal.tenant == "*" else principal.tenant
    rows = await repository.list_activities(
        session, tenant, desa=desa, date_from=date_from, date_to=date_to
    )
    return await activity_reads(session, runtime, rows)


@router.get("/events/{event_id}", response_model=ActivityRead, tags=["public"], name="get_event")
async def get_activity(
    event_id: uuid.UUID, session: SessionDep, runtime: RuntimeDep
) -> ActivityRead:
    """Shows one socialisation activity (public: the registration form needs it)."""
    activity = await service.get_activity(session, event_id)
    return (await activity_reads(session, runtime, [activity]))[0]


@router.patch(
    "/events/{event_id}", response_model=ActivityRead, tags=["operator"], name="update_event"
)
async def update_activity(
    event_id: uuid.UUID,
    data: ActivityUpdate,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: OperatorDep,
) -> ActivityRead:
    """Edits an activity; moving its date or place notifies registered participants."""
    await operator_activity(session, principal, event_id)
    activity, moved = await activities.update_activity(
        session, event_id, tenant_of=runtime.tenants, data=data
    )
    log.info("registration.activity_updated", activity_id=str(event_id), moved=moved)
    return (await activity_reads(session, runtime, [activity]))[0]


@router.post(
    "/events/{event_id}/close", response_model=ActivityRead, tags=["operator"], name="close_event"
)
async def close_activity(
    event_id: uuid.UUID, session: SessionDep, runtime: RuntimeDep, principal: OperatorDep
) -> ActivityRead:
    """Closes an activity's registration (sign-ups are refused from now on)."""
    await operator_activity(session, principal, event_id)
    activity, _moved = await activities.update_activity(
        session, event_id, tenant_of=runtime.tenants, data=ActivityUpdate(registration_open=False)
    )
    log.info("registration.activity_closed", activity_id=str(event_id))
    return (await activity_reads(session, runtime, [activity]))[0]


@router.post(
    "/tokens", response_model=TokenRead, status_code=status.HTTP_201_CREATED, tags=["admin"]
)
async def create_token(data: TokenCreate, runtime: RuntimeDep, principal: AdminDep) -> TokenRead:
    """Issues a role token for one kecamatan (admin only); it is shown once."""
    if data.tenant != ALL_TENANTS and runtime.tenant(data.tenant) is None:
        raise UnknownOperatorTenant(tenant=data.tenant)
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
