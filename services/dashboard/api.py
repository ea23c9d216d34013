"""Dashboard JSON API: journeys, the live summary, health, dead letters (operator only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from services.dashboard import deadletters, service
from services.dashboard.access import DashboardOperator, tenant_codes
from services.dashboard.health import UnknownStream, known_stream
from services.dashboard.schemas import DeadLetterReplay, JourneyList, JourneyRead, ReplayResult
from shared.auth import ALL_TENANTS
from shared.contracts import ALL_EVENTS, utcnow
from shared.logging import get_logger
from shared.phone import normalize_phone
from shared.runtime import Runtime
from shared.web import RuntimeDep, SessionDep, resolve_tenant

router = APIRouter(prefix="/api/v1", tags=["dashboard"])
log = get_logger(__name__)


@router.get("/journeys/{registration_id}", response_model=JourneyRead)
async def get_journey(
    registration_id: str, principal: DashboardOperator, session: SessionDep, runtime: RuntimeDep
) -> Any:
    """Every event and effect of one registration, in time order."""
    journey = await service.journey(session, registration_id[:64])
    if journey is None or journey["tenant"] not in tenant_codes(runtime, principal):
        raise service.JourneyNotFound()
    log.info("dashboard.journey_read", registration_id=registration_id)
    return await _with_dead_letters(runtime, journey)


@router.get("/journeys", response_model=JourneyList)
async def find_journeys(
    principal: DashboardOperator,
    session: SessionDep,
    runtime: RuntimeDep,
    phone: str = Query(min_length=1, max_length=32),
) -> Any:
    """Journeys of the registrations a phone number made (the caller's kecamatan only)."""
    try:
        normalized = normalize_phone(phone)
    except ValueError as exc:
        raise service.JourneyPhoneInvalid(detail=str(exc)) from exc
    journeys = await service.journeys_by_phone(
        session, tenant_codes(runtime, principal), normalized
    )
    return {"journeys": [await _with_dead_letters(runtime, j) for j in journeys]}


async def _with_dead_letters(runtime: Runtime, journey: dict[str, Any]) -> dict[str, Any]:
    """Adds the registration's dead letters: the answer to "why did this step not happen?"."""
    streams = [event.STREAM for event in ALL_EVENTS]
    journey["dead_letters"] = await deadletters.for_journey(
        runtime.redis, streams, journey["registration_id"], journey["correlation_id"]
    )
    return journey


@router.get("/summary")
async def summary(
    principal: DashboardOperator,
    session: SessionDep,
    runtime: RuntimeDep,
    tenant: str | None = None,
) -> dict[str, Any]:
    """The numbers the dashboard page shows, for one kecamatan."""
    chosen = resolve_tenant(runtime, principal, tenant)
    return await service.snapshot(session, chosen.code, utcnow(), chosen.timezone)


@router.get("/dead-letters")
async def list_dead_letters(
    principal: DashboardOperator, runtime: RuntimeDep, stream: str = Query(max_length=160)
) -> list[dict[str, Any]]:
    """Dead letters of one stream, of the caller's kecamatan."""
    _check_stream(stream)
    return await deadletters.list_for(
        runtime.redis,
        stream,
        tenant_codes(runtime, principal),
        every_tenant=principal.tenant == ALL_TENANTS,
    )


@router.post("/dead-letters/replay", response_model=ReplayResult)
async def replay(
    body: DeadLetterReplay, principal: DashboardOperator, runtime: RuntimeDep
) -> dict[str, int]:
    """Puts dead letters back on their stream; consumers that handled them skip them."""
    _check_stream(body.stream)
    count = await deadletters.replay_for(
        runtime.redis,
        body.stream,
        body.ids,
        tenant_codes(runtime, principal),
        every_tenant=principal.tenant == ALL_TENANTS,
    )
    log.warning(
        "dashboard.dead_letters_replayed",
        stream=body.stream,
        ids=body.ids,
        count=count,
        principal=principal.subject,
        principal_role=principal.role,
    )
    return {"replayed": count}


def _check_stream(stream: str) -> None:
    if not known_stream(stream):
        raise UnknownStream(stream=stream[:80])
