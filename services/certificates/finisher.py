"""The second step of issuing, and the sweeper: render waiting certificates, store, announce.

One loop per process. It leases waiting rows (any replica's: a lease hides a row from the
others for longer than a render may take), renders each in the render pool outside any
transaction and stores the PDF. Rendered certificates are finished together: one short
transaction records their keys, queues their `CertificateIssuedV1` in the outbox and, in the
same commit, leases the next waiting rows for the slots they free. Renders that end while a
finish transaction runs, or within `finish_linger_ms` of the first (while others are still
rendering, up to `finish_batch`), share the next one. The loop itself claims when this process
numbered a certificate, when a render failed, and every `sweep_interval_s`, so rows left by a
replica that died between the two steps (or before their finish commit) are finished by
whichever replica looks next: the number stays, nothing is numbered twice.
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from services.certificates import repository, service
from services.certificates.models import Certificate, CertificateTemplate
from services.certificates.renderpool import DEPTH, RenderPool
from services.certificates.settings import Settings
from services.certificates.storage import PdfStore, pdf_key
from services.certificates.tenant_templates import ChosenTemplate, choose
from shared.contracts import utcnow
from shared.db import Database
from shared.logging import bound_context, get_logger
from shared.outbox import add_events
from shared.tenants import Tenant

log = get_logger(__name__)
_FAILURES_BEFORE_ERROR = 5
# Set inside the finisher's own finish task: its commit (which also runs the after-commit
# hooks) has already claimed what waits, so it must not wake the loop again.
_OWN_COMMIT: ContextVar[bool] = ContextVar("certificates_finisher_own_commit", default=False)


@dataclass(frozen=True)
class _Rendered:
    """A certificate whose PDF is stored, waiting for its finish transaction."""

    row: Certificate
    key: str
    pdf_bytes: int
    started: float
    template: str


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
        self._held = 0  # rows leased and neither finished nor given back yet
        self._rendered: list[_Rendered] = []  # stored, waiting for the next finish transaction
        self._more_rendered = asyncio.Event()
        self._freed = asyncio.Event()

    def wake(self) -> None:
        """Asks the loop to look for waiting certificates now (after a numbering commit)."""
        if not _OWN_COMMIT.get():
            self._wake.set()

    async def run(self) -> None:
        """Runs until cancelled; then stops the render workers."""
        finishing: asyncio.Task[None] | None = None
        try:
            await self.pool.start()
            await self._release_own_leases()
            finishing = asyncio.create_task(self._finish_loop(), name="certificates-finish")
            while True:
                await self._fill()
                await self._idle()
        finally:
            for task in [*self._in_flight, *([finishing] if finishing else [])]:
                task.cancel()
            await self.pool.stop()

    @property
    def capacity(self) -> int:
        """Certificates in hand at once: what the workers' pipes hold (DEPTH each, so a worker
        never waits for the database work around the render before it) and one finish batch
        (rendered, waiting for their shared transaction)."""
        return self.pool.size * DEPTH + self.settings.finish_batch

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
        free = self.capacity - self._held
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
        self._held += len(rows)
        for row in rows:
            chosen = choose(templates.get(row.tenant), self.folder_templates, row.tenant)
            task = asyncio.create_task(self._render(row, chosen), name=f"render-{row.id}")
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)

    async def _idle(self) -> None:
        if self._held >= self.capacity:
            self._freed.clear()
            await self._freed.wait()
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

    async def _render(self, row: Certificate, chosen: ChosenTemplate) -> None:
        """Renders and stores one certificate, then hands it to the finish loop."""
        context = {"certificate_id": str(row.id), "tenant": row.tenant}
        with bound_context(correlation_id=row.correlation_id, **context):
            started = asyncio.get_running_loop().time()
            try:
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
            except Exception as exc:
                await self._failed(row, exc)
                self._let_go(1)
                self._wake.set()  # the loop claims for the slot this render gave up
                return
        self._rendered.append(_Rendered(row, key, len(pdf), started, chosen.origin))
        self._more_rendered.set()

    def _let_go(self, count: int) -> None:
        self._held -= count
        self._freed.set()

    async def _finish_loop(self) -> None:
        _OWN_COMMIT.set(True)  # this task's context only
        while True:
            await self._more_rendered.wait()
            await self._linger()
            self._more_rendered.clear()
            batch, self._rendered = self._rendered, []
            await self._finish(batch)

    async def _linger(self) -> None:
        """Waits up to `finish_linger_ms` for more renders to end, so they share the finish
        transaction: not when the batch is full, nor when nothing else is rendering."""
        linger = self.settings.finish_linger_ms / 1000
        if linger <= 0:
            return
        deadline = asyncio.get_running_loop().time() + linger
        while self.settings.finish_batch > len(self._rendered) < self._held:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return
            self._more_rendered.clear()
            try:
                async with asyncio.timeout(left):
                    await self._more_rendered.wait()
            except TimeoutError:
                return

    async def _finish(self, batch: list[_Rendered]) -> None:
        """One transaction: the batch's keys and announcements, and leases for the slots freed."""
        done = [(item.row.id, item.row.generation, item.key) for item in batch]
        try:
            async with self.db.session() as session:
                issued = await service.finish_renders(
                    service.SqlCertificates(session),
                    done,
                    public_url=self.settings.effective_public_url,
                )
                await add_events(session, issued)
                free = self.capacity - self._held + len(batch)
                following = await self._claim(session, free)
        except Exception as exc:
            for item in batch:
                with bound_context(certificate_id=str(item.row.id), tenant=item.row.tenant):
                    await self._failed(item.row, exc)
            self._let_go(len(batch))
            self._wake.set()
            return
        self._let_go(len(batch))
        self._start(*following)
        now = asyncio.get_running_loop().time()
        for item in batch:
            log.info(
                "certificate.rendered",
                certificate_id=str(item.row.id),
                tenant=item.row.tenant,
                correlation_id=item.row.correlation_id,
                number=item.row.number,
                pdf_bytes=item.pdf_bytes,
                render_ms=round((now - item.started) * 1000, 1),
                generation=item.row.generation,
                template=item.template,
                batch=len(batch),
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
