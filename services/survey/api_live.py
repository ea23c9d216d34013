"""The operator's live view: server-sent events of the IKM as responses come in."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from services.survey import reporting
from services.survey.context import ContextDep
from services.survey.live import LiveHub
from shared.logging import get_logger
from shared.runtime import Runtime
from shared.web import OperatorDep, RuntimeDep, resolve_tenant

router = APIRouter(prefix="/api/v1", tags=["operator"])
log = get_logger(__name__)
HEARTBEAT_S = 15.0


def start_live(runtime: Runtime) -> LiveHub:
    """Builds the process's hub and starts its reader (called once at start-up)."""

    async def compute(tenant: str, unit: str | None) -> dict[str, Any]:
        found = runtime.tenant(tenant)
        assert found is not None  # viewers are checked before they watch
        async with runtime.db.session() as session:
            return await reporting.live_snapshot(session, found, unit)

    hub = LiveHub(runtime.redis, compute)
    runtime.spawn(hub.run(), "survey-live")
    return hub


async def _events(
    request: Request, hub: LiveHub, tenant: str, unit: str | None
) -> AsyncIterator[str]:
    yield "retry: 1000\n\n"  # a dropped stream is reopened by the browser after 1 s
    async with hub.watch(tenant, unit) as queue:
        while not hub.closed.is_set() and not await request.is_disconnected():
            try:
                snapshot = await asyncio.wait_for(queue.get(), timeout=HEARTBEAT_S)
            except TimeoutError:
                yield ": tetap terhubung\n\n"
                continue
            yield f"event: ikm\ndata: {json.dumps(snapshot, ensure_ascii=False)}\n\n"


@router.get("/live")
async def live(
    request: Request,
    runtime: RuntimeDep,
    context: ContextDep,
    principal: OperatorDep,
    unit: Annotated[str | None, Query(max_length=64)] = None,
    tenant: Annotated[str | None, Query(max_length=64)] = None,
) -> StreamingResponse:
    """Server-sent events: the IKM snapshot now and after every aggregated batch."""
    found = resolve_tenant(runtime, principal, tenant)
    log.info("survey.live_opened", unit=unit)
    return StreamingResponse(
        _events(request, context.live, found.code, unit),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
