"""Findings 6, 11 and 12 over each service's HTTP app: body limits, clear parsing errors,
HTML error pages, security headers with a strict CSP, and HEAD wherever GET works."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import pytest

from tests.security.conftest import SERVICES, ServiceRunner, create_event
from tests.support import ADMIN_TOKEN, auth

pytestmark = pytest.mark.integration
POSTS = {
    "registration": "/api/v1/events/{id}/registrations",
    "certificates": "/api/v1/certificates/{id}/revoke",
    "consultation": "/api/v1/groups",
    "survey": "/api/v1/units/kantor-kecamatan/responses",
}
BIG = b'{"name": "' + b"x" * 100_000 + b'"}'


def _post_path(name: str) -> str:
    return POSTS[name].format(id=uuid.uuid4())


@pytest.mark.parametrize("name", SERVICES)
async def test_every_service_refuses_a_body_over_the_limit_before_parsing_it(
    service_app: ServiceRunner, name: str
) -> None:
    async with service_app(name) as (_app, client):
        headers = {"Content-Type": "application/json", **auth()}
        declared = await client.post(_post_path(name), content=BIG, headers=headers)
        assert declared.status_code == 413, declared.text
        assert "terlalu besar" in declared.json()["message"]

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: chunked upload
            for _ in range(40):
                yield b"x" * 4096

        streamed = await client.post(_post_path(name), content=chunks(), headers=headers)
        assert streamed.status_code == 413, streamed.text
        assert "terlalu besar" in streamed.json()["message"]


async def test_the_body_limit_is_a_setting(service_app: ServiceRunner) -> None:
    async with service_app("survey", max_body_bytes=2048) as (_app, client):
        body = {"scores": {"U1": 4}, "suggestion": "a" * 3000}
        assert (await client.post(_post_path("survey"), json=body)).status_code == 413


async def test_only_upload_endpoints_take_larger_bodies(service_app: ServiceRunner) -> None:
    """A certificate template with its logo is an upload: 6 MB, not 64 KB; nothing else is."""
    logo = "data:image/png;base64," + "A" * 300_000
    body = {"html": "<p>{{ nama }}</p>", "logo": logo}
    async with service_app("certificates") as (_app, client):
        upload = await client.put("/api/v1/certificates/template", json=body, headers=auth())
        assert upload.status_code != 413, upload.text
        other = await client.post(_post_path("certificates"), json=body, headers=auth())
        assert other.status_code == 413
        huge = {"html": "<p></p>", "logo": "A" * 6_400_000}
        too_big = await client.put("/api/v1/certificates/template", json=huge, headers=auth())
        assert too_big.status_code == 413 and "6144 KB" in too_big.json()["message"]


async def test_invalid_json_and_form_bodies_get_a_message_that_names_the_problem(
    service_app: ServiceRunner,
) -> None:
    async with service_app("registration") as (_app, client):
        event_id = await create_event(client, ADMIN_TOKEN)
        path = f"/api/v1/events/{event_id}/registrations"
        broken = await client.post(
            path, content=b'{"name": "Ayu", ', headers={"Content-Type": "application/json"}
        )
        assert broken.status_code == 422
        assert broken.json()["message"].startswith("JSON tidak valid")
        assert "13" not in broken.json()["message"]
        form = await client.post(path, data={"name": "Ayu", "phone": "081234567890"})
        assert form.status_code == 415
        assert "application/json" in form.json()["message"]


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("survey", "/survei/unit-yang-tidak-ada"),
        ("registration", "/daftar/bukan-id"),
        ("registration", f"/daftar/{uuid.uuid4()}"),
        ("certificates", f"/verify/{uuid.uuid4()}"),
        ("consultation", "/i/tautan-tidak-ada"),
        ("survey", "/halaman-tidak-ada"),
    ],
)
async def test_pages_people_open_answer_errors_with_an_html_page(
    service_app: ServiceRunner, name: str, path: str
) -> None:
    async with service_app(name) as (_app, client):
        response = await client.get(path)
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.lstrip().lower().startswith("<!doctype html>")
    assert '"error"' not in response.text


def _check_headers(headers: object) -> None:
    get = headers.get  # type: ignore[attr-defined]
    assert get("x-frame-options") == "DENY"
    assert get("x-content-type-options") == "nosniff"
    assert get("referrer-policy") == "no-referrer"
    assert "frame-ancestors 'none'" in get("content-security-policy")


async def test_html_pages_carry_a_strict_csp_whose_nonce_matches_their_only_scripts(
    service_app: ServiceRunner,
) -> None:
    async with service_app("registration") as (_app, client):
        event_id = await create_event(client, ADMIN_TOKEN)
        first = await client.get(f"/daftar/{event_id}")
        second = await client.get(f"/daftar/{event_id}")
    async with service_app("survey") as (_app, survey):
        form = await survey.get("/survei/kantor-kecamatan")
    for page in (first, form):
        assert page.status_code == 200
        _check_headers(page.headers)
        csp = page.headers["content-security-policy"]
        nonce = re.search(r"script-src 'self' 'nonce-([^']+)'", csp)
        assert nonce, csp
        assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";")[0]
        scripts = re.findall(r"<script([^>]*)>", page.text)
        assert scripts
        for attributes in scripts:  # inline ones carry the nonce; files come from this server
            src = re.search(r'src="([^"]+)"', attributes)
            assert (
                src.group(1).startswith("/") if src else f'nonce="{nonce.group(1)}"' in attributes
            )
        assert not re.search(r"\son[a-z]+=", page.text)  # no inline event handlers
    assert first.headers["content-security-policy"] != second.headers["content-security-policy"]


@pytest.mark.parametrize("name", SERVICES)
async def test_every_answer_has_the_security_headers_and_head_works_where_get_does(
    service_app: ServiceRunner, name: str
) -> None:
    async with service_app(name) as (_app, client):
        for path in ("/health", "/openapi.json", "/api/v1/nothing-here", "/docs"):
            got = await client.get(path)
            _check_headers(got.headers)
            head = await client.head(path)
            assert head.status_code == got.status_code, path
            assert head.content == b""
        docs = await client.get("/docs")
        assert "'sha256-" in docs.headers["content-security-policy"]  # its inline script, hashed


async def test_head_on_a_public_page_answers_like_get_without_a_body(
    service_app: ServiceRunner,
) -> None:
    async with service_app("registration") as (_app, client):
        event_id = await create_event(client, ADMIN_TOKEN)
        got = await client.get(f"/daftar/{event_id}")
        head = await client.head(f"/daftar/{event_id}")
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-length"] == got.headers["content-length"]
        public = await client.head(f"/api/v1/events/{event_id}")
        assert public.status_code == 200
        # Only GET routes gain HEAD: a POST-only route still refuses it.
        post_only = await client.head("/api/v1/tokens")
        assert post_only.status_code == 405
        assert (await client.get(f"/api/v1/events/{event_id}/registrations")).status_code == 401
        assert (await client.head(f"/api/v1/events/{event_id}/registrations")).status_code == 401


async def test_each_request_is_one_log_line_carrying_its_correlation_id(
    service_app: ServiceRunner, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 8: correlation and request logging as pure ASGI middleware, one line per request."""
    import json

    async with service_app("survey", log_format="json") as (_app, client):
        capsys.readouterr()
        answers = [
            await client.get("/api/v1/units", headers={"X-Correlation-ID": f"corr-{i}"})
            for i in range(5)
        ]
        bad = await client.get("/api/v1/units", headers={"X-Correlation-ID": "bad id with spaces"})
        err = capsys.readouterr().err
    lines = [json.loads(x) for x in err.splitlines() if x.startswith("{")]
    requests = [x for x in lines if x["event"] == "http.request"]
    assert [x["correlation_id"] for x in requests[:5]] == [f"corr-{i}" for i in range(5)]
    assert len(requests) == 6
    assert [a.headers["x-correlation-id"] for a in answers] == [f"corr-{i}" for i in range(5)]
    assert bad.headers["x-correlation-id"] == requests[5]["correlation_id"] != "bad id with spaces"
    assert all(x["status"] == 200 and x["path"] == "/api/v1/units" for x in requests)


async def test_a_survey_post_is_one_log_line_with_its_outcome(
    service_app: ServiceRunner, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 8: the route's outcome rides on the request's line instead of a second line."""
    import json

    scores = {f"U{i}": 4 for i in range(1, 10)}
    async with service_app("survey", log_format="json") as (_app, client):
        capsys.readouterr()
        first = await client.post(
            "/api/v1/units/kantor-kecamatan/responses", json={"scores": scores}
        )
        again = await client.post(
            "/api/v1/units/kantor-kecamatan/responses",
            json={"scores": scores},
            headers={"X-Correlation-ID": "corr-again"},
        )
        err = capsys.readouterr().err
    assert (first.status_code, again.status_code) == (201, 200)
    lines = [json.loads(x) for x in err.splitlines() if x.startswith("{")]
    posts = [x for x in lines if x.get("path") == "/api/v1/units/kantor-kecamatan/responses"]
    assert [x["event"] for x in posts] == ["http.request", "http.request"]
    assert [x["outcome"] for x in posts] == [
        "survey.response_submitted",
        "survey.response_resubmitted",
    ]
    assert [x["status"] for x in posts] == [201, 200]
    assert posts[0]["response_id"] == first.json()["id"] == posts[1]["response_id"]
    assert posts[1]["correlation_id"] == "corr-again" and posts[0]["unit"] == "kantor-kecamatan"
    assert not [x for x in lines if x["event"].startswith("survey.response_")]
