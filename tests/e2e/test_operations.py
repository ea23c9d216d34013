"""Operations against running service processes: metrics move, the dashboard goes live over
SSE, `menjamu trace` shows a whole journey, Grafana queries name real metrics, and a headless
Chromium sees the dashboard update without a reload."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis
import redis.asyncio

from tests.conftest import TEST_REDIS_DB
from tests.processes import ROOT, ServiceProcess, migrate, service_env
from tests.support import ADMIN_TOKEN, REDIS_HOST, REDIS_PORT, auth, require_server

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
SERVICES = ("registration", "certificates", "consultation", "survey", "dashboard")
GRAFANA = ROOT / "deploy" / "monitoring" / "grafana" / "dashboards" / "menjamu.json"
CHROMIUM = "/usr/bin/chromium"
HAVE_CHROMIUM = os.path.exists(CHROMIUM)
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


def need_chromium() -> None:
    """Skips without Debian's chromium, except under CI where it must be installed."""
    if not HAVE_CHROMIUM:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is missing; CI must install it (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ServiceProcess]]:
    """Five service processes on SQLite and the machine's Redis (the test database)."""
    require_server("Redis", REDIS_HOST, REDIS_PORT)
    redis_url = f"redis://{REDIS_HOST}:{REDIS_PORT}/{TEST_REDIS_DB}"
    redis.Redis.from_url(redis_url).flushdb()
    data = tmp_path_factory.mktemp("ops")
    env = service_env(
        redis_url=redis_url,
        data_dir=data,
        DASHBOARD_POLL_MS="100",
        DASHBOARD_CLAIM_IDLE_MS="2000",
        DASHBOARD_REFRESH_S="1",
    )
    migrate(env, *SERVICES)
    procs = {name: ServiceProcess(name, env, data) for name in SERVICES}
    urls = {n: p.url for n, p in procs.items() if n != "dashboard"}
    procs["dashboard"].env["DASHBOARD_SERVICE_URLS"] = json.dumps(urls)
    try:
        for proc in procs.values():
            proc.start()
        yield procs
    finally:
        for proc in procs.values():
            proc.stop()


async def register(registration_url: str, *, phone: str, desa: str = "Kauman") -> str:
    """Creates a socialisation event and registers one participant; returns the id."""
    async with httpx.AsyncClient(timeout=30) as client:
        event = await client.post(
            f"{registration_url}/api/v1/events",
            headers=auth(),
            json={"title": "Sosialisasi Adminduk", "date": "2026-12-05", "location": "Pendopo"},
        )
        assert event.status_code == 201, event.text
        registered = await client.post(
            f"{registration_url}/api/v1/events/{event.json()['id']}/registrations",
            json={"name": "Ayu Lestari", "school": "SMAN 1 Mojosari", "phone": phone,
                  "level": "SMA", "desa": desa, "consent": True},
        )  # fmt: skip
        assert registered.status_code == 201, registered.text
        registration_id: str = registered.json()["registration"]["id"]
        return registration_id


async def journey(dashboard_url: str, registration_id: str, steps: int) -> dict[str, Any]:
    """Waits until the dashboard's journey has at least `steps` steps."""
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(timeout=10) as client:
        while True:
            response = await client.get(
                f"{dashboard_url}/api/v1/journeys/{registration_id}", headers=auth()
            )
            if response.status_code == 200 and len(response.json()["steps"]) >= steps:
                body: dict[str, Any] = response.json()
                return body
            assert time.monotonic() < deadline, f"journey incomplete: {response.text}"
            await asyncio.sleep(0.2)


def scrape(url: str) -> dict[str, float]:
    """Samples of a /metrics page: 'name{labels}' -> value."""
    text = httpx.get(f"{url}/metrics", headers=auth(), timeout=10).text
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            samples[key] = float(value)
    return samples


def sample(samples: dict[str, float], name: str, **labels: str) -> float:
    """Sum of the samples of a metric whose labels include the given ones."""
    total = 0.0
    for key, value in samples.items():
        metric, _, rest = key.partition("{")
        if metric == name and all(f'{k}="{v}"' in rest for k, v in labels.items()):
            total += value
    return total


async def test_a_journey_moves_the_metrics_of_every_service_it_touches(
    running: dict[str, ServiceProcess],
) -> None:
    urls = {n: p.url for n, p in running.items()}
    before = {n: scrape(u) for n, u in urls.items()}
    registration_id = await register(urls["registration"], phone="0812-5555-0001")
    await journey(urls["dashboard"], registration_id, steps=3)
    after = {n: scrape(u) for n, u in urls.items()}

    def moved(service: str, name: str, **labels: str) -> float:
        return sample(after[service], name, **labels) - sample(before[service], name, **labels)

    route = "/api/v1/events/{event_id}/registrations"
    assert moved("registration", "menjamu_http_requests_total", route=route, status="201") == 1
    assert moved("registration", "menjamu_http_request_duration_seconds_count", route=route) == 1
    assert moved("registration", "menjamu_outbox_published_total") >= 1
    handled = {"outcome": "handled"}
    assert (
        moved(
            "certificates", "menjamu_consumer_messages_total", group="certificates.issue", **handled
        )
        == 1
    )
    assert (
        moved(
            "consultation",
            "menjamu_consumer_messages_total",
            group="consultation.invite",
            **handled,
        )
        == 1
    )
    for metric in ("registrations", "certificates_issued", "invitations_sent"):
        assert moved("dashboard", f"menjamu_{metric}_total", tenant="mojosari") == 1, metric
    assert sample(after["certificates"], "menjamu_consumer_lag", group="certificates.issue") == 0
    sent = {"tenant": "mojosari", "state": "sent"}
    # The invitation is sent; the certificate link follows it and may not have left yet.
    assert moved("consultation", "menjamu_whatsapp_outbound_messages", **sent) in (1, 2)


async def test_the_live_stream_shows_a_registration_within_two_seconds(
    running: dict[str, ServiceProcess],
) -> None:
    dashboard = running["dashboard"].url
    async with (
        httpx.AsyncClient(timeout=30) as client,
        client.stream("GET", f"{dashboard}/dashboard/stream", headers=auth()) as stream,
    ):
        events = _sse(stream.aiter_lines())
        first = await anext(events)
        count = first["totals"]["registrations"]["today"]
        await register(running["registration"].url, phone="0812-5555-0002", desa="Modopuro")
        accepted_at = time.monotonic()
        while True:
            snapshot = await asyncio.wait_for(anext(events), timeout=10)
            if snapshot["totals"]["registrations"]["today"] == count + 1:
                break
        elapsed = time.monotonic() - accepted_at
    assert elapsed < 2.0, f"the dashboard showed the registration after {elapsed:.2f}s"
    assert any(row["name"] == "Modopuro" for row in snapshot["by_desa"])


async def _sse(lines: Any, wanted: str = "snapshot") -> Any:
    """Yields the data of each `wanted` event of a server-sent event stream."""
    name = ""
    async for line in lines:
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: ") and name == wanted:
            yield json.loads(line[6:])


async def test_the_health_strip_shows_every_service_ready(
    running: dict[str, ServiceProcess],
) -> None:
    url = f"{running['dashboard'].url}/dashboard/stream"
    async with (
        httpx.AsyncClient(timeout=30) as client,
        client.stream("GET", url, headers=auth()) as stream,
    ):
        rows = await asyncio.wait_for(anext(_sse(stream.aiter_lines(), "health")), timeout=20)
    assert {row["service"] for row in rows} == set(SERVICES)
    assert all(row["ready"] for row in rows), rows
    assert all(row["dead_letters"] == 0 for row in rows)


async def test_menjamu_trace_shows_the_whole_journey_and_masks_the_phone(
    running: dict[str, ServiceProcess],
) -> None:
    registration_id = await register(running["registration"].url, phone="0812-5555-0003")
    await journey(running["dashboard"].url, registration_id, steps=3)
    env = {**os.environ, "MENJAMU_ADMIN_TOKEN": ADMIN_TOKEN}
    by_id, by_phone = (
        subprocess.run(
            [sys.executable, "-m", "services.cli", "trace", who,
             "--dashboard-url", running["dashboard"].url],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True,
        ).stdout
        for who in (registration_id, "0812-5555-0003")
    )  # fmt: skip
    assert by_id == by_phone
    lines = by_id.splitlines()
    assert lines[0].startswith(f"registration {registration_id}  tenant mojosari")
    assert "phone +6281****03" in lines[0] and "5555" not in by_id and "Ayu" not in by_id
    steps = [re.sub(r"^\s+\S+\s+\S+\s+", "", line) for line in lines[1:]]
    assert steps[0] == "terdaftar (SMA, Kauman, Sosialisasi Adminduk)"
    assert any(
        re.fullmatch(r"sertifikat terbit nomor \d{4}/SERT-MENJAMU/MOJOSARI/\d{4}", s) for s in steps
    )
    assert "undangan WhatsApp terkirim (gateway dev)" in steps
    times = [line.split()[0] for line in lines[1:]]
    assert times == sorted(times)


def test_every_grafana_query_names_a_metric_the_services_export(
    running: dict[str, ServiceProcess],
) -> None:
    board = json.loads(GRAFANA.read_text())
    exprs = [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
    assert len(exprs) >= 8
    exported: set[str] = set()
    for proc in running.values():
        exported |= {key.partition("{")[0] for key in scrape(proc.url)}
    for expr in exprs:
        names = set(re.findall(r"\bmenjamu_[a-z_]+\b", expr))
        assert names, expr
        assert names <= exported, f"{expr}: not exported: {names - exported}"


async def test_a_headless_browser_sees_the_dashboard_update_without_a_reload(
    running: dict[str, ServiceProcess],
) -> None:
    need_chromium()
    from playwright.async_api import async_playwright

    dashboard = running["dashboard"].url
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 800, "height": 1280})  # a tablet
            await page.goto(f"{dashboard}/dashboard")
            assert page.url.endswith("/dashboard/masuk")
            await page.fill("#token", ADMIN_TOKEN)
            await page.click("button[type=submit]")
            await page.wait_for_selector("#live.on", timeout=20_000)
            # Predicates as functions: an expression string is eval'd in the page, which the
            # strict CSP (no 'unsafe-eval') refuses.
            await page.wait_for_function(
                "() => document.querySelector('#health .svc.ready') !== null", timeout=20_000
            )
            before = int((await page.inner_text("#registrations-today")).replace(".", ""))
            await page.evaluate("window.__notReloaded = true")
            await register(
                running["registration"].url, phone=f"0812-5556-{uuid.uuid4().int % 10_000:04d}"
            )
            await page.wait_for_function(
                f"() => document.querySelector('#registrations-today').textContent !== '{before}'",
                timeout=20_000,
            )
            after = int((await page.inner_text("#registrations-today")).replace(".", ""))
            assert after == before + 1
            assert await page.evaluate("window.__notReloaded === true")
            assert await page.evaluate("document.querySelector('#daily-chart').width > 0")
            cookies = await page.context.cookies()
            assert [c["httpOnly"] for c in cookies if c["name"] == "menjamu_dashboard"] == [True]
        finally:
            await browser.close()


async def test_an_operator_lists_and_replays_a_dead_letter_from_the_health_strip(
    running: dict[str, ServiceProcess],
) -> None:
    need_chromium()
    from playwright.async_api import async_playwright

    from shared.streams import dead_letter

    await register(running["registration"].url, phone="0812-5557-0001")
    client = redis.asyncio.Redis.from_url(f"redis://{REDIS_HOST}:{REDIS_PORT}/{TEST_REDIS_DB}")
    stream = "registration.participant_registered.v1"
    try:
        [(message_id, fields)] = await client.xrevrange(stream, count=1)
        await dead_letter(
            client, stream=stream, group="certificates.issue", message_id=message_id.decode(),
            data=fields, deliveries=5, reason="uji: renderer mati", maxlen=1000,
        )  # fmt: skip
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = await browser.new_page(viewport={"width": 800, "height": 1280})
                await page.goto(f"{running['dashboard'].url}/dashboard/masuk")
                await page.fill("#token", ADMIN_TOKEN)
                await page.click("button[type=submit]")
                button = page.locator("[data-service=certificates] button")
                await button.click(timeout=20_000)
                await page.wait_for_selector("#dlq >> text=uji: renderer mati", timeout=20_000)
                await page.click("#dlq button")
                await page.wait_for_selector("#dlq >> text=Dikirim ulang", timeout=20_000)
            finally:
                await browser.close()
        assert await client.xlen(f"{stream}.dlq") == 0
    finally:
        await client.aclose()
    log = running["dashboard"].log_path.read_text()
    replayed = [line for line in log.splitlines() if "dashboard.dead_letters_replayed" in line]
    assert replayed and json.loads(replayed[-1])["principal"] == "bootstrap-admin"
