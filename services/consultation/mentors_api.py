"""HTTP routes for operators: the mentor roster, rota, duty, mentor tokens, metrics."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, status

from services.consultation import inbox_repository, mentors, metrics
from services.consultation.api import _tenant_filter
from services.consultation.handlers import Parts
from services.consultation.schemas import (
    ConsultationMetrics,
    DutyUpdate,
    MentorCreate,
    MentorRead,
    MentorToken,
    RotaCoverage,
    RotaUpdate,
)
from shared.auth import authorize, issue_token
from shared.logging import get_logger
from shared.outbox import add_event
from shared.problems import Problem
from shared.web import OperatorDep, RuntimeDep, SessionDep, resolve_tenant

router = APIRouter(prefix="/api/v1", tags=["mentors"])
log = get_logger(__name__)
MENTOR_TOKEN_DAYS = 180


class AdminTokenMissing(Problem):
    """Mentor tokens are signed with MENJAMU_ADMIN_TOKEN, which is not set."""


def parts_of(request: Request) -> Parts:
    """The service's shared parts (built in app.py)."""
    parts: Parts = request.app.state.consultation
    return parts


def _read(parts: Parts, mentor: Any) -> MentorRead:
    config = parts.configs.get(mentor.tenant)
    tz = config.tenant.timezone if config else "Asia/Jakarta"
    return MentorRead.model_validate(mentors.describe(mentor, parts.clock.now(), tz))


@router.post("/mentors", response_model=MentorRead, status_code=status.HTTP_201_CREATED)
async def add_mentor(
    data: MentorCreate,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: OperatorDep,
) -> MentorRead:
    """Adds a mentor: name, WhatsApp number, topics, capacity (open conversations at once)."""
    parts = parts_of(request)
    tenant = resolve_tenant(runtime, principal, data.tenant)
    mentor = await mentors.add_mentor(
        session,
        tenant=tenant.code,
        name=data.name,
        phone=data.phone,
        topics=data.topics,
        capacity=data.capacity,
        now=parts.clock.now(),
    )
    log.info("consultation.mentor_added", mentor_id=str(mentor.id), by=principal.subject)
    return _read(parts, mentor)


@router.get("/mentors", response_model=list[MentorRead])
async def list_mentors(
    request: Request, session: SessionDep, principal: OperatorDep, tenant: str | None = None
) -> list[MentorRead]:
    """Lists the roster with each mentor's load and whether they are on duty now."""
    parts = parts_of(request)
    rows = await inbox_repository.list_mentors(session, _tenant_filter(principal, tenant))
    return [_read(parts, m) for m in rows]


async def _owned(session: Any, principal: Any, mentor_id: uuid.UUID) -> Any:
    mentor = await mentors.get_mentor(session, mentor_id)
    authorize(principal, ("operator",), mentor.tenant)
    return mentor


@router.put("/mentors/{mentor_id}/rota", response_model=MentorRead)
async def set_rota(
    mentor_id: uuid.UUID,
    data: RotaUpdate,
    request: Request,
    session: SessionDep,
    principal: OperatorDep,
) -> MentorRead:
    """Replaces the mentor's weekly rota (tenant local time, day 0 = Monday)."""
    parts = parts_of(request)
    mentor = await _owned(session, principal, mentor_id)
    slots = [s.model_dump() for s in data.slots]
    events = await mentors.set_rota(
        session, parts.configs[mentor.tenant], mentor, slots, now=parts.clock.now(), sla=parts.sla
    )
    for event in events:
        await add_event(session, event)
    return _read(parts, mentor)


@router.post("/mentors/{mentor_id}/duty", response_model=MentorRead)
async def set_duty(
    mentor_id: uuid.UUID,
    data: DutyUpdate,
    request: Request,
    session: SessionDep,
    principal: OperatorDep,
) -> MentorRead:
    """Puts a mentor on or off duty now (null: follow the rota again)."""
    parts = parts_of(request)
    mentor = await _owned(session, principal, mentor_id)
    events = await mentors.set_duty(
        session,
        parts.configs[mentor.tenant],
        mentor,
        data.on_duty,
        now=parts.clock.now(),
        sla=parts.sla,
    )
    for event in events:
        await add_event(session, event)
    log.info("consultation.mentor_duty", mentor_id=str(mentor.id), duty=mentor.duty)
    return _read(parts, mentor)


@router.post("/mentors/{mentor_id}/token", response_model=MentorToken)
async def mentor_token(
    mentor_id: uuid.UUID, session: SessionDep, runtime: RuntimeDep, principal: OperatorDep
) -> MentorToken:
    """Issues the mentor's inbox token (role mentor, bound to this mentor); shown once."""
    mentor = await _owned(session, principal, mentor_id)
    admin = runtime.settings.admin_token
    if admin is None:
        raise AdminTokenMissing()
    token = issue_token(
        admin.get_secret_value(),
        role="mentor",
        tenant=mentor.tenant,
        subject=str(mentor.id),
        ttl_days=MENTOR_TOKEN_DAYS,
    )
    log.info("consultation.mentor_token_issued", mentor_id=str(mentor.id), by=principal.subject)
    return MentorToken(mentor_id=mentor.id, token=token, expires_in_days=MENTOR_TOKEN_DAYS)


@router.get("/rota/coverage", response_model=RotaCoverage)
async def rota_coverage(
    session: SessionDep, runtime: RuntimeDep, principal: OperatorDep, tenant: str | None = None
) -> RotaCoverage:
    """The hours of the week that no mentor's rota covers (the rota should cover 24 hours)."""
    code = resolve_tenant(runtime, principal, tenant).code
    rows = await inbox_repository.list_mentors(session, code)
    return RotaCoverage(tenant=code, uncovered=mentors.uncovered(rows))


@router.get("/consultation/metrics", response_model=ConsultationMetrics)
async def consultation_metrics(
    session: SessionDep, principal: OperatorDep, tenant: str | None = None
) -> ConsultationMetrics:
    """First-response and resolution times, open and queued counts, moderation counts."""
    code = _tenant_filter(principal, tenant)
    return ConsultationMetrics.model_validate(await metrics.figures(session, code))
