"""Stream reactions of the certificates service: render a certificate per registration."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.certificates import service
from services.certificates.render import CertificateContent, CertificateRenderer
from services.certificates.settings import Settings
from shared.consumer import Reaction
from shared.contracts import CertificateIssuedV1, ParticipantRegisteredV1
from shared.runtime import Runtime

ISSUE_GROUP = "certificates.issue"


def prepare_renderer(runtime: Runtime) -> None:
    """Builds the process's one renderer and the lock that lets one render run at a time."""
    runtime.state["renderer"] = CertificateRenderer()
    runtime.state["render_lock"] = asyncio.Lock()


async def render_pdf(runtime: Runtime, content: CertificateContent) -> bytes:
    """Renders in a worker thread (the event loop keeps serving) and one at a time."""
    renderer: CertificateRenderer = runtime.state["renderer"]
    async with runtime.state["render_lock"]:
        return await asyncio.to_thread(renderer.render, content)


def reactions(settings: Settings, runtime: Callable[[], Runtime]) -> list[Reaction[Any]]:
    """The service's reactions; `runtime()` returns the running process's Runtime."""

    async def issue_certificate_on_participant_registered(
        session: AsyncSession, event: ParticipantRegisteredV1
    ) -> CertificateIssuedV1 | None:
        """Issues the participant's e-certificate once per registration."""
        current = runtime()
        return await service.issue_certificate(
            session,
            event,
            tenant=current.tenant(event.tenant),
            public_url=settings.effective_public_url,
            number_code=settings.number_code,
            render=partial(render_pdf, current),
        )

    return [
        Reaction(
            group=ISSUE_GROUP,
            event=ParticipantRegisteredV1,
            handle=issue_certificate_on_participant_registered,
        )
    ]
