"""Render workers: a render that overruns is stopped for real, and renders never overlap."""

from __future__ import annotations

import asyncio
import shutil
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

PROJECT_ROOT = str(Path(__file__).resolve().parents[3])
if PROJECT_ROOT not in sys.path:
    sys.path.insert(0, PROJECT_ROOT)

from services.certificates.render import TEMPLATES_DIR  # noqa: E402
from services.certificates.renderpool import RenderFailed, RenderPool  # noqa: E402
from tests.certificates_support import pdf_text  # noqa: E402
from tests.unit.certificates.test_render import CONTENT  # noqa: E402

SLOW_MARK = "lambat"


@pytest.fixture(scope="module")
def slow_templates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real stylesheet, and a template that takes seconds for one participant."""
    folder = tmp_path_factory.mktemp("templates")
    shutil.copy(TEMPLATES_DIR / "certificates.css", folder / "certificates.css")
    (folder / "certificate.html").write_text(
        "<html><body><p>{{ c.participant_name }}</p>"
        f"{{% if '{SLOW_MARK}' in c.participant_name %}}"
        "{% for i in range(1500) %}<p>{{ i }}</p>{% endfor %}{% endif %}</body></html>"
    )
    return folder


@pytest.fixture
async def pool(slow_templates: Path) -> AsyncIterator[RenderPool]:
    started = RenderPool(1, timeout_s=60, templates_dir=slow_templates)
    await started.start()
    yield started
    await started.stop()


async def test_a_render_that_overruns_its_timeout_is_killed_and_the_worker_replaced(
    pool: RenderPool,
) -> None:
    first_pid = pool._workers[0].process.pid
    # The slow job lays out about thirty pages: far over a quarter second on any machine, where
    # a one-second limit was met by a fast idle one.
    pool.timeout_s = 0.25
    with pytest.raises(RenderFailed, match="timed out"):
        await pool.render(replace(CONTENT, participant_name=f"Peserta {SLOW_MARK}"))
    assert pool._workers[0].process is None  # killed, not left rendering
    pool.timeout_s = 60
    pdf = await pool.render(CONTENT)
    assert pdf.startswith(b"%PDF")
    assert pool._workers[0].process.pid != first_pid


async def test_a_cancelled_caller_keeps_its_worker_until_the_render_has_ended(
    pool: RenderPool, tmp_path: Path
) -> None:
    slow = asyncio.create_task(
        pool.render(replace(CONTENT, participant_name=f"Peserta {SLOW_MARK}"))
    )
    await asyncio.sleep(0.3)  # let the slow job reach the worker
    slow.cancel()
    with pytest.raises(asyncio.CancelledError):
        await slow
    # The worker is still busy with the cancelled job: the next render waits for it and
    # gets its own answer, never the cancelled job's.
    assert pool._idle.empty()
    pdf = await pool.render(replace(CONTENT, participant_name="Bima Sakti"))
    text = pdf_text(pdf, tmp_path)
    assert "Bima Sakti" in text and SLOW_MARK not in text


async def test_the_next_job_waits_in_the_workers_pipe_and_survives_a_timeout_ahead_of_it(
    pool: RenderPool, tmp_path: Path
) -> None:
    first_pid = pool._workers[0].process.pid
    pool.timeout_s = 0.25
    slow = asyncio.create_task(
        pool.render(replace(CONTENT, participant_name=f"Peserta {SLOW_MARK}"))
    )
    await asyncio.sleep(0.1)  # the slow job is sent first
    pool.timeout_s = 60
    queued = asyncio.create_task(pool.render(replace(CONTENT, participant_name="Bima Sakti")))
    await asyncio.sleep(0.05)
    # Handed to the busy worker at once (in its pipe), not held back until the slow one ends.
    assert pool._workers[0].outstanding == 2
    with pytest.raises(RenderFailed, match="timed out"):
        await slow
    # The process that held it was killed; the queued job is sent again to its replacement.
    text = pdf_text(await queued, tmp_path)
    assert "Bima Sakti" in text and SLOW_MARK not in text
    assert pool._workers[0].process.pid != first_pid
    assert pool._workers[0].outstanding == 0


async def test_a_render_asked_for_while_the_workers_start_is_answered_once_they_are_up(
    slow_templates: Path,
) -> None:
    # A page (the brochure, say) asked for before start() has finished must not wait forever.
    fresh = RenderPool(1, timeout_s=60, templates_dir=slow_templates)
    waiting = asyncio.ensure_future(fresh.render(CONTENT))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    await fresh.start()
    try:
        pdf = await asyncio.wait_for(waiting, 60)
    finally:
        await fresh.stop()
    assert pdf.startswith(b"%PDF")


async def test_after_a_worker_is_replaced_each_render_gets_its_own_pdf(
    pool: RenderPool, tmp_path: Path
) -> None:
    # The job that starts the replacement process is sent to it once: a second copy would leave
    # an answer in the pipe that the next caller would take for its own (someone else's PDF).
    pool.timeout_s = 0.25
    with pytest.raises(RenderFailed, match="timed out"):
        await pool.render(replace(CONTENT, participant_name=f"Peserta {SLOW_MARK}"))
    pool.timeout_s = 60
    first = await pool.render(replace(CONTENT, participant_name="Ayu Pertama"))
    second = await pool.render(replace(CONTENT, participant_name="Budi Kedua"))
    assert "Ayu Pertama" in pdf_text(first, tmp_path)
    assert "Budi Kedua" in pdf_text(second, tmp_path)
