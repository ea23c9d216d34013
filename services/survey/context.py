"""What one survey process owns besides the shared Runtime, typed in one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from services.survey.live import LiveHub


@dataclass
class SurveyContext:
    """The live page's hub (one stream reader per process), built at start-up."""

    live: LiveHub


def get_context(request: Request) -> SurveyContext:
    """Returns the process's context (set at start-up, before any route is served)."""
    context: SurveyContext = request.app.state.survey
    return context


ContextDep = Annotated[SurveyContext, Depends(get_context)]
