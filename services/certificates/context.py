"""What one certificates process owns besides the shared Runtime, typed in one place."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from services.certificates.finisher import Finisher
from services.certificates.renderpool import RenderPool
from services.certificates.settings import Settings
from services.certificates.storage import PdfStore


@dataclass
class CertificatesContext:
    """The render pool, the PDF store and the finisher of this process."""

    settings: Settings
    pool: RenderPool
    store: PdfStore
    finisher: Finisher
    # Brochure and sticker PDFs by (kind, tenant): rendered once per process.
    documents: dict[tuple[str, str], bytes] = field(default_factory=dict)


def get_context(request: Request) -> CertificatesContext:
    """Returns the process's context (set at start-up, before any route is served)."""
    context: CertificatesContext = request.app.state.certificates
    return context


ContextDep = Annotated[CertificatesContext, Depends(get_context)]
