"""The second step of issuing, and the sweeper: render waiting certificates, store, announce.

One loop per process. It leases waiting rows (any replica's: a lease hides a row from the
others for longer than a render may take), renders each in the render pool outside any
transaction, stores the PDF, and finishes the row in a short transaction that queues
`CertificateIssuedV1` in the outbox and, in the same commit, leases the next waiting rows for
the slots it frees (one transaction per certificate instead of two). The loop itself claims
when this process numbered a certificate, when a render failed, and every `sweep_interval_s`,
so rows left by a replica that died between the two steps are finished by whichever replica
looks next: the number stays, nothing is numbered twice.
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar

from sqlalchemy.ext.asyncio import AsyncSession

from services.certificates import repository, service
from services.certificates.models import Certificate, CertificateTemplate
from services.certificates.renderpool import RenderPool
from services.certificates.settings import Settings
from services.certificates.storage import PdfStore, pdf_key
from services.certificates.tenant_templates import ChosenTemplate, choose
from shared.contracts import utcnow
from shared.db import Database
from shared.logging import bound_context, get_logger
from shared.outbox import add_event
from shared.tenants import Tenant

log = get_logger(__name__)
_FAILURES_BEFORE_ERROR = 5
# Set inside the finisher's own render tasks: their finish commit (which also runs the
# after-commit hooks) has already claimed what waits, so it must not wake the loop again.
_OWN_COMMIT: ContextVar[bool] = ContextVar("certificates_finisher_own_commit", default=False)


class Finisher:
    """Renders, stores and announces the certificates that wait for their PDF."""

    def __init__(
        self,
        db: Database,
        pool: RenderPool,
        store: PdfStore,
        settings: Settings,
        tenants: dict[str, Tenant],
        folder_templates: dict[str, ChosenTemplate] | None = None,
    ) -> None:
        self.db = db
        self.pool = pool
        self.store = store
        self.settings = settings
        self.tenants = tenants
        self.folder_templates = folder_templates or {}
        self.owner = f"{settings.consumer_name}-render"
        self._wake = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        """Asks the loop to look for waiting certificates now (after a numbering commit)."""
        if not _OWN_COMMIT.get():
            self._wake.set()

    async def run(self) -> None:
        """Runs until cancelled; then stops the render workers."""
        try:
            await self.pool.start()
            await self._release_own_leases()
            while True:
                await self._fill()
                await self._idle()
        finally:
            for task in self._in_flight:
                task.cancel()
            await self.pool.stop()

    @property
    def capacity(self) -> int:
        """Certificates in hand at once: twice the workers, so a worker never waits for the
        database work (claim, store, finish) around the render before it."""
        return self.pool.size * 2

    async def _release_own_leases(self) -> None:
        # With a stable consumer name, a restarted replica takes back at once the rows it had
        # in hand when it died, instead of waiting for their leases to run out.
        try:
            async with self.db.session() as session:
                freed = await repository.release_leases_of(session, self.owner)
        except Exception as exc:
            log.warning("certificate.release_failed", error=f"{type(exc).__name__}: {exc}")
            return
        if freed:
            log.info("certificate.leases_taken_back", count=freed)

    async def _fill(self) -> None:
        free = self.capacity - len(self._in_flight)
        if free <= 0:
            return
        try:
            async with self.db.session() as session:
                rows, templates = await self._claim(session, free)
        except Exception as exc:
            log.warning("certificate.claim_failed", error=f"{type(exc).__name__}: {exc}")
            return
        self._start(rows, templates)

    def _start(self, rows: list[Certificate], templates: dict[str, CertificateTemplate]) -> None:
        for row in rows:
            chosen = choose(templates.get(row.tenant), self.folder_templates, row.tenant)
            task = asyncio.create_task(self._finish(row, chosen), name=f"render-{row.id}")
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)

    async def _idle(self) -> None:
        if len(self._in_flight) >= self.capacity:
            await asyncio.wait(self._in_flight, return_when=asyncio.FIRST_COMPLETED)
            return
        try:
            async with asyncio.timeout(self.settings.sweep_interval_s):
                await self._wake.wait()
        except TimeoutError:
            pass
        self._wake.clear()

    async def _claim(
        self, session: AsyncSession, limit: int
    ) -> tuple[list[Certificate], dict[str, CertificateTemplate]]:
        if limit <= 0:
            return [], {}
        rows = await repository.claim_renders(
            session,
            owner=self.owner,
            limit=limit,
            now=utcnow(),
            lease_s=self.settings.render_lease_s,
        )
        if not rows:  # the usual answer to a wake-up: skip the template read
            return rows, {}
        templates = await repository.templates_of(session, {row.tenant for row in rows})
        return rows, templates

    async def _finish(self, row: Certificate, chosen: ChosenTemplate) -> None:
        _OWN_COMMIT.set(True)  # this task's context only
        context = {"certificate_id": str(row.id), "tenant": row.tenant}
        with bound_context(correlation_id=row.correlation_id, **context):
            try:
                await self._render_store_announce(row, chosen)
            except Exception as exc:
                await self._failed(row, exc)
                self._wake.set()  # the loop claims for the slot this render gave up

    async def _render_store_announce(self, row: Certificate, chosen: ChosenTemplate) -> None:
        started = asyncio.get_running_loop().time()
        pdf = await service.render_certificate(
            self.pool,
            row,
            self.tenants.get(row.tenant),
            template=chosen.html,
            logo=chosen.logo,
            public_url=self.settings.effective_public_url,
        )
        key = pdf_key(row.tenant, row.issued_at, row.id)
        await asyncio.to_thread(self.store.put, key, pdf)
        async with self.db.session() as session:
            issued = await service.finish_render(
                service.SqlCertificates(session),
                row.id,
                generation=row.generation,
                key=key,
                public_url=self.settings.effective_public_url,
            )
            if issued is not None:
                await add_event(session, issued)
            # The slot this certificate frees (and any other free one), in the same commit.
            following = await self._claim(session, self.capacity - len(self._in_flight) + 1)
        self._start(*following)
        log.info(
            "certificate.rendered",
            number=row.number,
            pdf_bytes=len(pdf),
            render_ms=round((asyncio.get_running_loop().time() - started) * 1000, 1),
            generation=row.generation,
            template=chosen.origin,
        )

    async def _failed(self, row: Certificate, exc: Exception) -> None:
        level = log.error if row.render_attempts >= _FAILURES_BEFORE_ERROR else log.warning
        level(
            "certificate.render_failed",
            attempt=row.render_attempts,
            error=f"{type(exc).__name__}: {exc}",
        )
        try:
            async with self.db.session() as session:
                await repository.release_lease(
                    session,
                    row.id,
                    owner=self.owner,
                    retry_at=service.retry_at(row.render_attempts, self.settings.render_lease_s),
                )
        except Exception as release_error:  # the lease then simply expires
            log.warning("certificate.release_failed", error=str(release_error))
