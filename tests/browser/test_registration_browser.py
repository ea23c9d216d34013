"""The sign-up journey in headless Chromium at a phone's size: form, confirmation, door."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from shared.contracts import ActivityChangedV1
from tests.processes import ServiceProcess, migrate, service_env
from tests.registration_support import PARTICIPANT, stream_events
from tests.support import ADMIN_TOKEN, wait_for

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


def _require_chromium() -> None:
    if Path(CHROMIUM).exists() and shutil.which("chromium"):
        return
    message = "Debian's chromium is not installed (apt-get install -y chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; CI must provide it")
    pytest.skip(message)


@pytest.fixture
def registration(tmp_path: Path, redis_url: str) -> Iterator[ServiceProcess]:
    """The registration service as a real process on SQLite."""
    _require_chromium()
    env = service_env(redis_url=redis_url, data_dir=tmp_path)
    migrate(env, "registration")
    process = ServiceProcess("registration", env, tmp_path).start()
    yield process
    process.stop()


@pytest.fixture
async def phone_page(registration: ServiceProcess) -> AsyncIterator[Any]:
    """A page of headless Chromium the size of a phone."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = await browser.new_context(
            viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="id-ID"
        )
        page = await context.new_page()
        page.set_default_timeout(30_000)
        yield page
        await browser.close()


async def _fill_form(page: Any, base: str, event_id: str) -> None:
    await page.goto(f"{base}/daftar/{event_id}")
    await page.fill("#name", "Ayu Lestari")
    await page.fill("#school", "SMAN 1 Mojosari")
    await page.fill("#phone", "0812-3456-7890")
    await page.select_option("#level", "SMA")
    await page.select_option("#desa", "Seduri")
    await page.check("#consent")
    await page.click("button[type=submit]")


async def _operator_creates_an_event(page: Any, base: str) -> str:
    await page.goto(f"{base}/operator/kegiatan")
    await page.fill("#token", ADMIN_TOKEN)
    await page.dispatch_event("#token", "change")
    await page.fill("#title", "Sosialisasi Adminduk")
    await page.fill("#starts_at", "2026-12-05T08:00")
    await page.fill("#venue", "Balai Desa Seduri")
    await page.select_option("#desa", "Seduri")
    await page.fill("#capacity", "30")
    await page.click("#create button[type=submit]")
    await page.wait_for_function(
        "() => document.getElementById('result').textContent.includes('tersimpan')"
    )
    await page.wait_for_selector("#events li[data-id]")
    assert "Balai Desa Seduri" in await page.inner_text("#events")
    assert "2026-12-05 08:00" in await page.inner_text("#events")
    event_id: str = await page.get_attribute("#events li[data-id]", "data-id")
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        stored = (await client.get(f"/api/v1/events/{event_id}")).json()
    assert stored["starts_at"] == "2026-12-05T08:00:00+07:00" and stored["capacity"] == 30
    return event_id


async def test_sign_up_confirmation_repeat_and_check_in_on_a_phone(
    registration: ServiceProcess, phone_page: Any
) -> None:
    base = registration.url
    page = phone_page
    event_id = await _operator_creates_an_event(page, base)
    await _fill_form(page, base, event_id)
    await page.wait_for_url("**/konfirmasi/**")
    assert "Terdaftar" in await page.inner_text("#status")
    assert await page.locator("#qr svg").is_visible()
    box = await page.locator("#qr svg").bounding_box()
    assert box is not None and box["width"] <= 390  # fits the phone's screen
    code = (await page.inner_text("#code")).strip()
    assert len(code) == 8

    await _fill_form(page, base, event_id)
    await page.wait_for_function(
        "() => document.getElementById('result').textContent.includes('sudah terdaftar')"
    )
    assert "/daftar/" in page.url

    await page.goto(f"{base}/operator/kegiatan/{event_id}/check-in")
    # The camera scanner (the vendored jsQR) loaded under the page's script policy.
    assert await page.evaluate("typeof window.jsQR") == "function"
    await page.fill("#token", ADMIN_TOKEN)
    await page.dispatch_event("#token", "change")
    await page.fill("#code", code)
    await page.click("#submit-code")
    await page.wait_for_function(
        "() => document.getElementById('result').textContent.includes('tercatat hadir')"
    )
    assert await page.inner_text("#result") == "Ayu Lestari tercatat hadir."
    await page.click("#submit-code")
    await page.wait_for_function(
        "() => document.getElementById('result').textContent.includes('sebelumnya')"
    )


async def _row_text(page: Any) -> str:
    text: str = await page.inner_text("#events")
    return text


async def test_an_operator_edits_an_event_in_the_browser(
    registration: ServiceProcess, phone_page: Any, redis_url: str
) -> None:
    base, page = registration.url, phone_page
    event_id = await _operator_creates_an_event(page, base)
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        for phone in ("0812-0000-1111", "0812-0000-2222"):
            body = {**PARTICIPANT, "phone": phone}
            answer = await client.post(f"/api/v1/events/{event_id}/registrations", json=body)
            assert answer.status_code == 201, answer.text

    await page.click(f"#events li[data-id='{event_id}'] button.edit")
    assert await page.inner_text("#form-heading") == "Ubah kegiatan"
    assert await page.input_value("#title") == "Sosialisasi Adminduk"
    assert await page.input_value("#starts_at") == "2026-12-05T08:00"
    assert await page.input_value("#capacity") == "30"
    await page.fill("#venue", "Aula SMPN 1 Mojosari")
    await page.fill("#starts_at", "2026-12-06T09:00")
    await page.fill("#capacity", "40")
    await page.click("#save")
    await page.wait_for_function(
        "() => document.getElementById('result').textContent.includes('Perubahan')"
    )
    assert "diberi tahu" in await page.inner_text("#result")
    await page.wait_for_function(
        "() => document.getElementById('events').textContent.includes('Aula SMPN 1 Mojosari')"
    )
    assert "2026-12-06 09:00" in await _row_text(page)
    assert await page.inner_text("#form-heading") == "Kegiatan baru"
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        stored = (await client.get(f"/api/v1/events/{event_id}")).json()
    assert stored["starts_at"] == "2026-12-06T09:00:00+07:00"
    assert (stored["venue"], stored["capacity"]) == ("Aula SMPN 1 Mojosari", 40)
    assert (stored["title"], stored["desa"]) == ("Sosialisasi Adminduk", "Seduri")

    await page.click(f"#events li[data-id='{event_id}'] button.edit")
    await page.fill("#capacity", "1")
    await page.click("#save")
    await page.wait_for_function(
        "() => document.getElementById('result').textContent.includes('Kuota tidak bisa')"
    )
    assert "(2)" in await page.inner_text("#result")
    await page.click("#cancel-edit")
    assert await page.inner_text("#form-heading") == "Kegiatan baru"
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        assert (await client.get(f"/api/v1/events/{event_id}")).json()["capacity"] == 40

    redis = Redis.from_url(redis_url)
    try:
        changed = await wait_for(
            lambda: stream_events(redis, ActivityChangedV1), timeout=60, what="the move announced"
        )
    finally:
        await redis.aclose()
    assert len(changed) == 1
    assert set(changed[0].changed_fields) >= {"starts_at", "location"}
    assert len(changed[0].registration_ids) == 2
