"""What one survey process owns besides the shared Runtime, typed in one place."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from services.survey.live import LiveHub
from services.survey.service import UnitCache


@dataclass
class SurveyContext:
    """The live page's hub (one stream reader per process) and the process's copy of the
    active units, built at start-up (after the units are seeded)."""

    live: LiveHub
    units: UnitCache = field(default_factory=UnitCache)


async def get_context(request: Request) -> SurveyContext:
    """Returns the process's context (set at start-up, before any route is served).

    `async def`: FastAPI would run a plain `def` dependency in a worker thread.
    """
    context: SurveyContext = request.app.state.survey
    return context


ContextDep = Annotated[SurveyContext, Depends(get_context)]
