"""Certificate rules: one per registration, numbered per tenant and year, revocable.

Issuing takes two steps so that no lock is held while a PDF renders: `allocate` gives the
number and inserts the row in one short transaction; the finisher (finisher.py) renders the
PDF outside any transaction, stores it, and `finish_renders` records the key and announces
`CertificateIssuedV1` in a second, idempotent transaction (several certificates rendered close
together share it).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from services.certificates import repository
from services.certificates.models import (
    STATUS_REVOKED,
    STATUS_VALID,
    Certificate,
    Participant,
)
from services.certificates.numbering import format_number
from services.certificates.render import CertificateContent
from shared.contracts import (
    CertificateIssuedV1,
    CertificateRevokedV1,
    ParticipantCheckedInV1,
    ParticipantRegisteredV1,
    utcnow,
)
from shared.dates import as_utc, local_date
from shared.logging import get_logger
from shared.problems import Problem
from shared.tenants import Tenant

SOURCE = "certificates"
log = get_logger(__name__)


class CertificateLinkUnknown(Problem):
    """A public link or QR code names no certificate."""


class CertificateNotFound(Problem):
    """An operator named a certificate that does not exist."""


class CertificateRevoked(Problem):
    """A revoked certificate cannot be downloaded any more (410)."""


class CertificateFileMissing(Problem):
    """A valid certificate whose PDF is missing from storage (logged for the operators)."""


class CertificateNotReady(Problem):
    """The certificate's PDF is still being made."""


class AlreadyRevoked(Problem):
    """A certificate is revoked once."""


class NoCertificatesForEvent(Problem):
    """An event has no certificates (yet) to count."""


class NothingToReissue(Problem):
    """No valid certificate matches a reissue request."""


class UnknownTenant(Exception):
    """An event names a kecamatan this deployment has no tenant file for."""


class Renderer(Protocol):
    """The port the rules render a certificate through: the render pool (renderpool.py) in the
    service, an in-memory fake in unit tests."""

    async def render(
        self, content: CertificateContent, template: str | None = None, logo: str | None = None
    ) -> bytes:
        """Renders one certificate to PDF bytes (tenant template and logo optional)."""
        ...


@dataclass(frozen=True)
class FinishedRender:
    """A certificate whose stored PDF was just recorded; `first` when never announced before."""

    id: uuid.UUID
    tenant: str
    number: str
    status: str
    registration_id: uuid.UUID
    correlation_id: str
    causation_id: str | None
    first: bool


class CertificateStore(Protocol):
    """The port the rules keep certificates through: the database (SqlCertificates) in the
    service, an in-memory fake in unit tests. `lock` holds the row until commit."""

    async def get(self, certificate_id: uuid.UUID, *, lock: bool = False) -> Certificate | None:
        """A certificate by id."""
        ...

    async def find_by_registration(
        self, registration_id: uuid.UUID, *, lock: bool = False
    ) -> Certificate | None:
        """The certificate of a registration (there is at most one)."""
        ...

    async def issued_registrations(self, registration_ids: set[uuid.UUID]) -> set[uuid.UUID]:
        """Which of the registrations already have a certificate."""
        ...

    async def next_sequence(self, tenant: str, year: int, count: int = 1) -> int:
        """Takes the next `count` numbers of a tenant's year (1, 2, ...); returns the last."""
        ...

    async def add_all(self, certificates: list[Certificate]) -> None:
        """Keeps new certificates; their registrations and numbers are checked unique now."""
        ...

    async def lock_participant(
        self, *, registration_id: uuid.UUID, tenant: str, activity_id: uuid.UUID
    ) -> Participant:
        """What the service knows of a registration, created first when new; locked."""
        ...

    async def lock_participants(
        self, keys: list[tuple[uuid.UUID, str, uuid.UUID]]
    ) -> dict[uuid.UUID, Participant]:
        """lock_participant for several (registration id, tenant, activity id) at once."""
        ...

    async def flush(self) -> None:
        """Writes the changes made to the rows it gave out."""
        ...

    async def finish(
        self, done: list[tuple[uuid.UUID, int, str]], *, now: datetime
    ) -> list[FinishedRender]:
        """Records stored PDFs, (id, generation rendered, key) each, on certificates still
        waiting for them; returns those it finished."""
        ...

    async def mark_for_reissue(
        self,
        *,
        tenant: str,
        activity_id: uuid.UUID | None,
        certificate_id: uuid.UUID | None,
        activity_title: str | None,
    ) -> int:
        """Asks for new PDFs of valid certificates (one, or an event's); returns how many."""
        ...

    async def render_progress(
        self, *, tenant: str, activity_id: uuid.UUID | None
    ) -> dict[str, int]:
        """Counts certificates: total, waiting for a PDF, revoked, reissued."""
        ...


class SqlCertificates:
    """The store in the service's database: every query is in repository.py."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, certificate_id: uuid.UUID, *, lock: bool = False) -> Certificate | None:
        return await repository.get(self.session, certificate_id, lock=lock)

    async def find_by_registration(
        self, registration_id: uuid.UUID, *, lock: bool = False
    ) -> Certificate | None:
        return await repository.find_by_registration(self.session, registration_id, lock=lock)

    async def issued_registrations(self, registration_ids: set[uuid.UUID]) -> set[uuid.UUID]:
        return await repository.issued_registrations(self.session, registration_ids)

    async def next_sequence(self, tenant: str, year: int, count: int = 1) -> int:
        return await repository.next_sequence(self.session, tenant, year, count)

    async def add_all(self, certificates: list[Certificate]) -> None:
        await repository.add_all(self.session, certificates)

    async def lock_participants(
        self, keys: list[tuple[uuid.UUID, str, uuid.UUID]]
    ) -> dict[uuid.UUID, Participant]:
        return await repository.lock_participants(self.session, keys)

    async def lock_participant(
        self, *, registration_id: uuid.UUID, tenant: str, activity_id: uuid.UUID
    ) -> Participant:
        return await repository.lock_participant(
            self.session, registration_id=registration_id, tenant=tenant, activity_id=activity_id
        )

    async def flush(self) -> None:
        await self.session.flush()

    async def finish(
        self, done: list[tuple[uuid.UUID, int, str]], *, now: datetime
    ) -> list[FinishedRender]:
        rows = await repository.finish(self.session, done, now=now)
        return [FinishedRender(**row._asdict()) for row in rows]

    async def mark_for_reissue(
        self,
        *,
        tenant: str,
        activity_id: uuid.UUID | None,
        certificate_id: uuid.UUID | None,
        activity_title: str | None,
    ) -> int:
        return await repository.mark_for_reissue(
            self.session,
            tenant=tenant,
            activity_id=activity_id,
            certificate_id=certificate_id,
            activity_title=activity_title,
        )

    async def render_progress(
        self, *, tenant: str, activity_id: uuid.UUID | None
    ) -> dict[str, int]:
        return await repository.render_progress(
            self.session, tenant=tenant, activity_id=activity_id
        )


def download_url(public_url: str, certificate_id: uuid.UUID) -> str:
    """Where the participant downloads the PDF."""
    return f"{public_url}/api/v1/certificates/{certificate_id}/pdf"


def verify_url(public_url: str, certificate_id: uuid.UUID) -> str:
    """The public verification page (printed as a QR code on the certificate)."""
    return f"{public_url}/verify/{certificate_id}"


def brochure_url(public_url: str) -> str:
    """The public requirements brochure (A5 PDF)."""
    return f"{public_url}/brosur.pdf"


def certificate_content(
    certificate: Certificate, tenant: Tenant, *, public_url: str
) -> CertificateContent:
    """What is printed on a certificate, from its row and its kecamatan's facts."""
    issued_on: date = local_date(as_utc(certificate.issued_at), tenant.timezone)
    return CertificateContent(
        number=certificate.number,
        participant_name=certificate.participant_name,
        school=certificate.school,
        level=certificate.level,
        event_title=certificate.activity_title,
        event_date=certificate.activity_date,
        event_location=certificate.activity_location,
        tenant_name=tenant.name,
        kabupaten=tenant.kabupaten,
        programme=tenant.programme,
        signer_name=tenant.camat,
        signer_title=tenant.camat_title,
        verify_url=verify_url(public_url, certificate.id),
        issued_on=issued_on,
    )


async def render_certificate(
    renderer: Renderer,
    certificate: Certificate,
    tenant: Tenant | None,
    *,
    template: str | None,
    logo: str | None,
    public_url: str,
) -> bytes:
    """Renders a numbered certificate with its kecamatan's facts and template."""
    if tenant is None:
        raise UnknownTenant(f"no tenant file for kecamatan {certificate.tenant!r}")
    content = certificate_content(certificate, tenant, public_url=public_url)
    return await renderer.render(content, template, logo)


def require_tenant(tenant: Tenant | None, code: str, ids: dict[str, str]) -> Tenant:
    if tenant is None:
        log.error("certificate.unknown_tenant", **ids)
        raise UnknownTenant(
            f"no tenant file for kecamatan {code!r}; "
            "add deploy/tenants/<code>.yaml or fix the producer"
        )
    return tenant


async def allocate(
    store: CertificateStore, event: ParticipantRegisteredV1, *, tenant: Tenant, number_code: str
) -> Certificate | None:
    """Step one: the next number and the certificate row, once per registration."""
    numbered = await allocate_many(store, [(event, tenant)], number_code=number_code)
    return numbered[0] if numbered else None


async def allocate_many(
    store: CertificateStore,
    due: list[tuple[ParticipantRegisteredV1, Tenant]],
    *,
    number_code: str,
) -> list[Certificate]:
    """Step one for several registrations: one counter bump per kecamatan and year, numbers
    in the order given, one row per registration (those already numbered are skipped)."""
    issued = await store.issued_registrations({event.registration_id for event, _tenant in due})
    issued_at = utcnow()
    todo: dict[tuple[str, int], list[tuple[ParticipantRegisteredV1, Tenant]]] = {}
    for event, tenant in due:
        if event.registration_id in issued:
            log.info("certificate.already_issued", **log_ids(event))
            continue
        issued.add(event.registration_id)  # the same registration twice in one batch
        year = local_date(issued_at, tenant.timezone).year
        todo.setdefault((tenant.code, year), []).append((event, tenant))
    rows: list[Certificate] = []
    for (code, year), items in todo.items():
        last = await store.next_sequence(code, year, len(items))
        first = last - len(items) + 1
        rows += [
            _numbered(event, tenant, number_code, first + i, year, issued_at)
            for i, (event, tenant) in enumerate(items)
        ]
    await store.add_all(rows)
    for row in rows:
        log.info(
            "certificate.numbered",
            certificate_id=str(row.id),
            number=row.number,
            registration_id=str(row.registration_id),
            tenant=row.tenant,
        )
    return rows


def log_ids(event: ParticipantRegisteredV1 | ParticipantCheckedInV1) -> dict[str, str]:
    """The ids a registration's log lines carry (never its name or phone)."""
    return {"registration_id": str(event.registration_id), "tenant": event.tenant}


def _numbered(
    event: ParticipantRegisteredV1,
    tenant: Tenant,
    number_code: str,
    sequence: int,
    year: int,
    issued_at: datetime,
) -> Certificate:
    return Certificate(
        id=uuid.uuid4(),
        tenant=tenant.code,
        registration_id=event.registration_id,
        activity_id=event.activity_id,
        number=format_number(sequence, code=number_code, tenant_code=tenant.code, year=year),
        participant_name=event.name,
        school=event.school,
        level=event.level,
        activity_title=event.activity_title,
        activity_date=event.activity_date,
        activity_location=event.activity_location,
        needs_render=True,
        generation=1,
        render_attempts=0,
        status=STATUS_VALID,
        issued_at=issued_at,
        correlation_id=event.correlation_id,
        causation_id=str(event.event_id),
    )


async def finish_render(
    store: CertificateStore,
    certificate_id: uuid.UUID,
    *,
    generation: int,
    key: str,
    public_url: str,
) -> CertificateIssuedV1 | None:
    """Step two for one certificate (see finish_renders)."""
    issued = await finish_renders(store, [(certificate_id, generation, key)], public_url=public_url)
    return issued[0] if issued else None


async def finish_renders(
    store: CertificateStore, done: list[tuple[uuid.UUID, int, str]], *, public_url: str
) -> list[CertificateIssuedV1]:
    """Step two for rendered certificates, (id, generation rendered, stored key) each: records
    the stored PDFs and announces each certificate the first time only (a row another replica
    finished first is left alone)."""
    announced = []
    for finished in await store.finish(done, now=utcnow()):
        ids = {"certificate_id": str(finished.id), "tenant": finished.tenant}
        if not finished.first:
            log.info("certificate.reissued", number=finished.number, **ids)
            continue
        log.info("certificate.issued", number=finished.number, **ids)
        if finished.status != STATUS_VALID:
            continue
        announced.append(
            CertificateIssuedV1(
                tenant=finished.tenant,
                source=SOURCE,
                correlation_id=finished.correlation_id,
                causation_id=finished.causation_id,
                certificate_id=finished.id,
                registration_id=finished.registration_id,
                number=finished.number,
                download_url=download_url(public_url, finished.id),
                verify_url=verify_url(public_url, finished.id),
                brochure_url=brochure_url(public_url),
            )
        )
    return announced


def retry_at(attempts: int, lease_s: float) -> datetime:
    """When a failed render is tried again: exponential back-off up to the lease."""
    return utcnow() + timedelta(seconds=min(2.0**attempts, lease_s))


async def get_certificate(store: CertificateStore, certificate_id: uuid.UUID) -> Certificate:
    """Gets a certificate or raises NotFound (in Indonesian)."""
    certificate = await store.get(certificate_id)
    if certificate is None:
        raise CertificateLinkUnknown()
    return certificate


def downloadable_key(certificate: Certificate) -> str:
    """The storage key of a valid certificate's PDF; revoked is gone (410)."""
    if certificate.status == STATUS_REVOKED:
        raise CertificateRevoked()
    if certificate.pdf_key is None:
        raise CertificateNotReady()
    return certificate.pdf_key


async def revoke_certificate(
    store: CertificateStore, certificate_id: uuid.UUID, *, reason: str
) -> tuple[Certificate, CertificateRevokedV1]:
    """Revokes a valid certificate with a reason; revoking twice is refused (409)."""
    certificate = await store.get(certificate_id, lock=True)
    if certificate is None:
        raise CertificateNotFound()
    if certificate.status == STATUS_REVOKED:
        raise AlreadyRevoked()
    return certificate, revoke(certificate, reason, correlation_id=certificate.correlation_id)


def revoke(certificate: Certificate, reason: str, *, correlation_id: str) -> CertificateRevokedV1:
    """Marks a certificate revoked and returns the event that announces it."""
    certificate.status = STATUS_REVOKED
    certificate.revoked_at = utcnow()
    certificate.revoke_reason = reason
    certificate.needs_render = False
    return CertificateRevokedV1(
        tenant=certificate.tenant,
        source=SOURCE,
        correlation_id=correlation_id,
        certificate_id=certificate.id,
        registration_id=certificate.registration_id,
        number=certificate.number,
        revoked_at=certificate.revoked_at,
        reason=reason,
    )


async def progress(
    store: CertificateStore, *, tenant: str, activity_id: uuid.UUID | None
) -> dict[str, int]:
    """Counts of an event's certificates: total, waiting for a PDF, done, revoked."""
    counts = await store.render_progress(tenant=tenant, activity_id=activity_id)
    if counts["total"] == 0:
        raise NoCertificatesForEvent()
    valid = counts["total"] - counts["revoked"]
    return {
        "total": counts["total"],
        "waiting": counts["waiting"],
        "done": valid - counts["waiting"],
        "revoked": counts["revoked"],
    }


async def reissue(
    store: CertificateStore,
    *,
    tenant: str,
    activity_id: uuid.UUID | None = None,
    certificate_id: uuid.UUID | None = None,
    activity_title: str | None = None,
) -> dict[str, int]:
    """Asks for new PDFs (numbers, ids and links unchanged); returns the progress counts."""
    marked = await store.mark_for_reissue(
        tenant=tenant,
        activity_id=activity_id,
        certificate_id=certificate_id,
        activity_title=activity_title,
    )
    if marked == 0:
        raise NothingToReissue()
    if certificate_id is not None:
        certificate = await store.get(certificate_id)
        activity_id = certificate.activity_id if certificate else None
    if activity_id is None:
        return {"total": marked, "waiting": marked, "done": 0, "revoked": 0}
    return await progress(store, tenant=tenant, activity_id=activity_id)
