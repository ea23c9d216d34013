"""Log audit: the journey and the error cases through all five service processes, then every
log line (console and JSON) is searched for the admin token, the test phones in any common
spelling and the test names. Expected count: zero."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.journey import Urls, follow_registration, follow_survey
from tests.processes import ServiceProcess, migrate, service_env
from tests.security.conftest import SERVICES
from tests.support import ADMIN_TOKEN, auth

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
PHONES = ("81234567890", "85711112222")  # the journey's participant, the survey respondent
NAMES = ("Ayu Lestari", "Lestari", "Budi Santoso", "Santoso")


def forbidden() -> list[str]:
    """The admin token, each test phone in its common spellings, and the test names."""
    words = [ADMIN_TOKEN, *NAMES]
    for national in PHONES:
        a, b, c = national[:3], national[3:7], national[7:]
        for lead in ("0", "62", "+62", "+62 ", ""):
            words += [f"{lead}{national}", f"{lead}{a}-{b}-{c}", f"{lead}{a} {b} {c}"]
        words.append(national[3:])  # the subscriber part alone
    return words


@pytest.fixture(params=["console", "json"])
def services(
    request: pytest.FixtureRequest, tmp_path: Path, redis_url: str
) -> Iterator[dict[str, ServiceProcess]]:
    env = service_env(
        redis_url=redis_url,
        data_dir=tmp_path / "data",
        MENJAMU_LOG_FORMAT=request.param,
        MENJAMU_RATE_LIMIT_PER_PHONE="3",
    )
    migrate(env, *SERVICES, "dashboard")
    procs = {name: ServiceProcess(name, env, tmp_path) for name in (*SERVICES, "dashboard")}
    urls = {n: p.url for n, p in procs.items() if n != "dashboard"}
    procs["dashboard"].env["DASHBOARD_SERVICE_URLS"] = json.dumps(urls)
    try:
        for proc in procs.values():
            proc.start()
        yield procs
    finally:
        for proc in procs.values():
            proc.stop()


def _error_cases(urls: Urls, event_id: str) -> None:
    person = {
        "name": "Ayu Lestari",
        "school": "SMAN 1 Mojosari",
        "phone": "+62 812-3456-7890",
        "level": "SMA",
        "consent": True,
    }
    path = f"{urls.registration}/api/v1/events/{event_id}/registrations"
    with httpx.Client(timeout=30) as client:
        for base in (urls.registration, urls.certificates, urls.consultation, urls.survey):
            bad = client.get(
                f"{base}/api/v1/x", headers={"Authorization": "Bearer mj1.a.é".encode()}
            )
            assert bad.status_code in (401, 404)
            assert client.get(f"{base}/openapi.json", headers=auth("nope")).status_code == 200
        for phone in ("6281234567890", "0812 3456 7890", "081234567890"):  # repeats, then 429
            client.post(path, json={**person, "phone": phone})
        assert client.post(path, json={**person, "phone": "0812-3456-789x"}).status_code == 422
        assert client.post(path, json={**person, "consent": "yes"}).status_code in (
            201,
            200,
            422,
            429,
        )
        raw = b'{"name": "Ayu Lestari", "phone": "081234567890",'
        broken = client.post(path, content=raw, headers={"Content-Type": "application/json"})
        assert broken.status_code == 422
        assert (
            client.post(path, data={"name": "Ayu Lestari", "phone": "081234567890"}).status_code
            == 415
        )
        huge = {**person, "school": "x" * 70_000}
        assert client.post(path, json=huge).status_code == 413
        assert client.get(f"{urls.registration}/daftar/bukan-id").status_code == 422
        survey = f"{urls.survey}/api/v1/units/kantor-kecamatan/responses"
        answer = {
            "scores": {f"U{i}": 3 for i in range(1, 10)},
            "name": "Budi Santoso",
            "phone": "0857-1111-2222",
            "suggestion": "Hubungi saya di 085711112222, Budi Santoso",
        }
        assert client.post(survey, json=answer).status_code in (201, 422)
        assert client.get(f"{urls.survey}/survei/tidak-ada").status_code == 404
        client.get(f"{urls.consultation}/dev/whatsapp")


def _saran_reply_case(urls: Urls) -> None:
    """A consenting respondent's saran answered: the reply crosses to consultation (WhatsApp)."""
    answer = {
        "scores": {f"U{i}": 4 for i in range(1, 10)},
        "name": "Budi Santoso",
        "phone": "0857-1111-2222",
        "phone_consent": True,
        "suggestion": "Antrean loket terlalu lama",
    }
    with httpx.Client(base_url=urls.survey, timeout=30) as client:
        posted = client.post("/api/v1/units/kantor-kecamatan/responses", json=answer)
        assert posted.status_code in (200, 201), posted.text
        tickets = client.get("/api/v1/tickets", headers=auth()).json()["items"]
        ticket = next(t for t in tickets if t["can_reply_by_whatsapp"])
        reply = {"reply": "Loket kedua kini dibuka pukul 08.00."}
        sent = client.post(f"/api/v1/tickets/{ticket['id']}/reply", headers=auth(), json=reply)
        assert sent.status_code == 200, sent.text
    deadline = time.monotonic() + 90
    while "Loket kedua kini dibuka" not in httpx.get(f"{urls.consultation}/dev/whatsapp").text:
        assert time.monotonic() < deadline, "the saran reply never left on WhatsApp"
        time.sleep(0.5)


def _dashboard_cases(dashboard: str) -> None:
    """The operator's side: phone lookup, login with a wrong and with the right token."""
    with httpx.Client(base_url=dashboard, timeout=30) as client:
        for phone in ("081234567890", "+62 812-3456-7890"):
            found = client.get("/api/v1/journeys", params={"phone": phone}, headers=auth())
            assert found.status_code == 200, found.text
        client.post("/dashboard/masuk", data={"token": "wrong-" + ADMIN_TOKEN})
        client.post("/dashboard/masuk", data={"token": ADMIN_TOKEN})
        client.get("/dashboard")


async def test_no_log_line_carries_a_token_a_phone_or_a_name(
    services: dict[str, ServiceProcess],
) -> None:
    urls = Urls(**{name: proc.url for name, proc in services.items() if name != "dashboard"})
    result = await follow_registration(urls, ADMIN_TOKEN, correlation_id="audit-1")
    await follow_survey(urls, ADMIN_TOKEN)
    event_id = result["certificates"][0].get("activity_id") or _an_event(urls)
    _error_cases(urls, event_id)
    _saran_reply_case(urls)
    _dashboard_cases(services["dashboard"].url)
    for proc in services.values():
        proc.stop()  # flushes and writes the shutdown lines too
    text = "\n".join(proc.log_path.read_text() for proc in services.values())
    assert "http.request" in text and "audit-1" in text  # the logs were really captured
    found = {word: len(re.findall(re.escape(word), text)) for word in forbidden()}
    assert {w: n for w, n in found.items() if n} == {}


def _an_event(urls: Urls) -> str:
    events = httpx.get(f"{urls.registration}/api/v1/events", headers=auth(), timeout=30).json()
    return str(events[0]["id"])
