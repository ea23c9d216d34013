"""A page's CSP nonce is drawn when the page asks for it; a JSON answer draws none."""

from __future__ import annotations

import re

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

from shared import pages
from shared.middleware import SecurityHeaders


async def _json(_request: object) -> JSONResponse:
    return JSONResponse({"id": "x"}, status_code=201)


async def _page(_request: object) -> HTMLResponse:
    nonce = pages.csp_nonce()
    again = pages.csp_nonce()  # one nonce per request, however often a template asks
    return HTMLResponse(f'<script nonce="{nonce}">1</script><script nonce="{again}">2</script>')


async def test_json_answers_draw_no_nonce_and_pages_one_that_matches_their_scripts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    drawn: list[str] = []
    real = pages.secrets.token_urlsafe

    def counting(n: int) -> str:
        drawn.append(real(n))
        return drawn[-1]

    monkeypatch.setattr(pages.secrets, "token_urlsafe", counting)
    app = SecurityHeaders(Starlette(routes=[Route("/api/x", _json), Route("/page", _page)]))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        for _ in range(3):
            answer = await client.get("/api/x")
            assert answer.headers["content-security-policy"].startswith("default-src 'none'")
        assert drawn == []
        page = await client.get("/page")
        other = await client.get("/page")
    assert len(drawn) == 2
    nonce = re.search(r"'nonce-([^']+)'", page.headers["content-security-policy"])
    assert nonce and nonce.group(1) == drawn[0]
    assert page.text.count(f'nonce="{drawn[0]}"') == 2
    assert drawn[1] in other.headers["content-security-policy"] and drawn[1] != drawn[0]
