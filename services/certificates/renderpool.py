"""Renderer processes: PDFs rendered on every core, each render bounded by a real timeout.

Each worker is a process that builds one CertificateRenderer (WeasyPrint imported once, one
FontConfiguration kept) and renders what it is sent through a pipe. A render that exceeds the
timeout has its process killed and replaced: unlike a thread, it cannot go on rendering after
its caller gave up. A worker renders one job at a time; the next job waits in its pipe (at most
DEPTH jobs per worker, each slot handed out again only after its call has ended), so a worker
does not sit idle between two renders while the event loop hands out the next one, and a job
queued behind one that timed out is sent again to the replacement process (shared/DESIGN.md;
issue 6 item 6).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import resource
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from services.certificates.render import CertificateContent
from shared.logging import get_logger

log = get_logger(__name__)
_START_TIMEOUT_S = 120.0
# Jobs in one worker's pipe at once: the one rendering and the next.
DEPTH = 2


class RenderFailed(Exception):
    """A render raised, timed out, or its worker died."""


@dataclass(frozen=True)
class RenderJob:
    """What a worker renders: a certificate, or another template of the renderer."""

    kind: str  # "certificate" or a document name the renderer knows (brochure, sticker)
    payload: Any


def _worker_main(conn: Connection, templates_dir: str | None) -> None:
    """A worker process: one renderer for its lifetime, one job at a time."""
    import logging

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    from services.certificates.render import SAMPLE_CONTENT, CertificateRenderer

    renderer = CertificateRenderer(templates_dir)
    renderer.render(SAMPLE_CONTENT)  # warm-up: fonts loaded before the first participant's
    conn.send(("ready", None, 0))
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        try:
            result: Any = renderer.render_job(job.kind, job.payload)
            reply = ("ok", result)
        except Exception as exc:
            reply = ("error", f"{type(exc).__name__}: {exc}")
        peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        conn.send((*reply, peak_kib))


class _Worker:
    """One renderer process and the parent's end of its pipe.

    Up to `DEPTH` jobs are in its pipe at once, so the next job is already there when a render
    ends (no idle gap while the event loop hands out the next one). Answers come back in the
    order the jobs were sent: each caller's thread waits for its turn (its ticket), then waits
    at most the timeout for its answer, which starts when the job before it has ended.
    """

    def __init__(self, index: int, templates_dir: str | None) -> None:
        self.index = index
        self.templates_dir = templates_dir
        self.process: Any = None
        self.conn: Connection | None = None
        self.peak_kib = 0
        self.outstanding = 0  # jobs handed to this worker whose call has not ended
        self._turn = threading.Condition()
        self._sent = 0  # tickets handed out
        self._served = 0  # tickets whose answer was read (or given up)
        self._started = 0  # times a process was started (a job sent to an earlier one resends)

    def start(self) -> None:
        ctx = multiprocessing.get_context("spawn")  # no fork of a threaded asyncio process
        parent, child = ctx.Pipe()
        self.process = ctx.Process(
            target=_worker_main,
            args=(child, self.templates_dir),
            name=f"certificates-render-{self.index}",
            daemon=True,
        )
        self.process.start()
        child.close()
        self.conn = parent
        self._started += 1
        if not parent.poll(_START_TIMEOUT_S):
            self.kill()
            raise RenderFailed("render worker did not start")
        parent.recv()

    def _alive(self) -> bool:
        return self.conn is not None and self.process is not None and self.process.is_alive()

    def call(self, job: RenderJob, timeout_s: float) -> Any:
        """Sends one job and waits for its answer; on timeout the process is replaced."""
        with self._turn:
            ticket = self._sent
            self._sent += 1
            sent = self._send(job)
            started = self._started  # the process the job went to (_send may start one)
        try:
            with self._turn:
                self._turn.wait_for(lambda: self._served == ticket)
                if not sent or self._started != started or not self._alive():
                    # Its process died or was replaced (a timeout ahead of it) before its turn.
                    started = self._started if self._alive() else self._started + 1
                    sent = self._send(job)
            if not sent:
                raise RenderFailed("render worker died")
            return self._answer(timeout_s, started)
        finally:
            with self._turn:
                self._served += 1
                self._turn.notify_all()

    def _send(self, job: RenderJob) -> bool:
        """Sends a job (starting the process first if needed); called holding the turn lock."""
        try:
            if not self._alive():
                self.kill()
                self.start()
            assert self.conn is not None
            self.conn.send(job)
        except (EOFError, OSError, RenderFailed):
            self.kill()
            return False
        return True

    def _answer(self, timeout_s: float, started: int) -> Any:
        assert self.conn is not None
        try:
            ready = self.conn.poll(timeout_s)
            answer = self.conn.recv() if ready else None
        except (EOFError, OSError) as exc:
            self._kill_if(started)
            raise RenderFailed(f"render worker died: {exc}") from exc
        if answer is None:
            self._kill_if(started)  # the only way to stop a render that overran its time
            raise RenderFailed(f"render timed out after {timeout_s}s")
        status, result, peak_kib = answer
        self.peak_kib = max(self.peak_kib, peak_kib)
        if status != "ok":
            raise RenderFailed(result)
        return result

    def _kill_if(self, started: int) -> None:
        with self._turn:  # never a process started since (by a job queued behind)
            if self._started == started:
                self.kill()

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.join(5)
        if self.conn is not None:
            self.conn.close()
        self.process, self.conn = None, None

    def stop(self) -> None:
        if self.conn is not None and self.process is not None and self.process.is_alive():
            try:
                self.conn.send(None)
                self.process.join(5)
            except (OSError, ValueError):
                pass
        self.kill()


class RenderPool:
    """`size` renderer processes; `render` waits for a free one and holds it until its call ends."""

    def __init__(self, size: int, timeout_s: float, templates_dir: Path | None = None) -> None:
        self.size = size
        self.timeout_s = timeout_s
        folder = str(templates_dir) if templates_dir is not None else None
        self._workers = [_Worker(i, folder) for i in range(size)]
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()  # workers with no job at all
        self._freed = asyncio.Event()

    async def start(self) -> None:
        """Starts every worker (each imports WeasyPrint once: about a second)."""
        await asyncio.gather(*(asyncio.to_thread(w.start) for w in self._workers))
        for worker in self._workers:
            self._idle.put_nowait(worker)
        self._freed.set()  # wakes the callers that came before the workers were up
        log.info("certificate.render_pool_started", workers=self.size)

    @property
    def peak_memory_kib(self) -> list[int]:
        """Each worker's peak resident memory so far (KiB, as its last render reported)."""
        return [w.peak_kib for w in self._workers]

    async def render(
        self, content: CertificateContent, template: str | None = None, logo: str | None = None
    ) -> bytes:
        """Renders one certificate in a worker process (tenant template and logo optional)."""
        pdf: bytes = await self.run(RenderJob("certificate", (content, template, logo)))
        return pdf

    async def run(self, job: RenderJob) -> Any:
        """Runs one job; a cancelled caller frees its slot only when the call has ended."""
        worker = await self._take()
        call = asyncio.ensure_future(asyncio.to_thread(worker.call, job, self.timeout_s))
        call.add_done_callback(lambda _done: self._release(worker))
        return await asyncio.shield(call)

    async def _take(self) -> _Worker:
        """An idle worker, else the least busy one with room in its pipe, else waits."""
        while True:
            worker: _Worker | None
            if not self._idle.empty():
                worker = self._idle.get_nowait()
            else:
                room = [w for w in self._workers if 0 < w.outstanding < DEPTH]
                worker = min(room, key=lambda w: w.outstanding) if room else None
            if worker is not None:
                worker.outstanding += 1
                return worker
            self._freed.clear()
            await self._freed.wait()

    def _release(self, worker: _Worker) -> None:
        worker.outstanding -= 1
        if worker.outstanding == 0:
            self._idle.put_nowait(worker)
        self._freed.set()

    async def stop(self) -> None:
        """Stops every worker (a render in progress is killed)."""
        await asyncio.gather(*(asyncio.to_thread(w.stop) for w in self._workers))
