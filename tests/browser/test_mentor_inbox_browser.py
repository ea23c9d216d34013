"""The mentor inbox in headless Chromium: log in with a token, read, reply, close."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes import cloud_api
from tests.processes import ServiceProcess, migrate, service_env
from tests.support import auth, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CITIZEN = "+6281355501234"


def _require_chromium() -> None:
    if Path(CHROMIUM).exists() and shutil.which("chromium"):
        return
    message = "Debian's chromium is not installed (apt-get install -y chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; CI must provide it")
    pytest.skip(message)


@pytest.fixture
def consultation(tmp_path: Path, redis_url: str) -> Iterator[ServiceProcess]:
    """The consultation service as a real process on SQLite (development gateway)."""
    _require_chromium()
    env = service_env(
        redis_url=redis_url,
        data_dir=tmp_path,
        CONSULTATION_CLOUD_APP_SECRET=cloud_api.APP_SECRET,
        CONSULTATION_DISPATCH_INTERVAL_MS="100",
    )
    migrate(env, "consultation")
    process = ServiceProcess("consultation", env, tmp_path).start()
    yield process
    process.stop()


@pytest.fixture
async def page() -> AsyncIterator[Any]:
    """A page of headless Chromium."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = await browser.new_page(locale="id-ID")
        page.set_default_timeout(30_000)
        yield page
        await browser.close()


async def _mentor_with_a_conversation(base: str) -> str:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        mentor = await client.post(
            "/api/v1/mentors",
            headers=auth(),
            json={"name": "Sari", "phone": "0812-1111-2222", "topics": ["KK"], "capacity": 2},
        )
        mentor_id = mentor.json()["id"]
        await client.post(
            f"/api/v1/mentors/{mentor_id}/duty", headers=auth(), json={"on_duty": True}
        )
        token = (await client.post(f"/api/v1/mentors/{mentor_id}/token", headers=auth())).json()[
            "token"
        ]
        raw, headers = cloud_api.signed(
            cloud_api.inbound_text_payload(
                CITIZEN[1:], "KK saya rusak, bagaimana?", "wamid.b1", int(time.time())
            )
        )
        assert (
            await client.post("/webhooks/whatsapp", content=raw, headers=headers)
        ).status_code == 200

        async def assigned() -> bool:
            rows = (await client.get("/api/v1/conversations", headers=auth(token))).json()
            return bool(rows) and rows[0]["status"] == "assigned"

        await wait_for(assigned, timeout=60, what="the conversation assigned")
        return str(token)


async def test_a_mentor_reads_replies_and_closes_in_the_browser(
    consultation: ServiceProcess, page: Any
) -> None:
    base = consultation.url
    token = await _mentor_with_a_conversation(base)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(f"{base}/inbox")
    await page.fill("#token", token)
    await page.click("#login button[type=submit]")
    await page.wait_for_selector("text=1 percakapan terbuka.")
    assert "KK · assigned" in await page.inner_text("#list")
    await page.click("#list button")
    await page.wait_for_selector("#history pre")
    assert "KK saya rusak" in await page.inner_text("#history")
    await page.select_option("#canned", index=1)
    assert "Persyaratan" in await page.input_value("#text")
    await page.fill("#text", "Silakan bawa KK lama dan KTP ya.")
    await page.click("#reply button[type=submit]")
    await page.wait_for_selector("text=Balasan terkirim.")
    assert "[mentor] Silakan bawa KK lama" in await page.inner_text("#history")
    await page.click("#close")
    await page.wait_for_selector("text=Percakapan ditutup; warga diminta memberi nilai.")
    assert errors == []
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        closed = await client.get(
            "/api/v1/conversations", headers=auth(token), params={"status": "closed"}
        )
        assert len(closed.json()) == 1
