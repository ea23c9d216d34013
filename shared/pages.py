"""Jinja2 for a service's public HTML pages (autoescaped), their CSP nonce and error pages."""

from __future__ import annotations

import secrets
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from shared.problems import Problem

# The request's nonce holder: empty until a page asks for the nonce (a JSON answer needs none).
_nonce: ContextVar[list[str] | None] = ContextVar("csp_nonce", default=None)
# Paths that answer JSON even outside /api/ (probes, the OpenAPI document).
_JSON_PATHS = ("/api/", "/health", "/ready", "/openapi.json", "/metrics")
_ERROR_TITLES = {
    400: "Permintaan tidak dapat dibaca",
    401: "Perlu masuk",
    403: "Tidak berwenang",
    404: "Halaman tidak ditemukan",
    413: "Data terlalu besar",
    422: "Alamat tidak valid",
    429: "Terlalu banyak permintaan",
    503: "Layanan sedang tidak tersedia",
}
_ERROR_PAGE = Environment(autoescape=True).from_string(
    """<!doctype html>
<html lang="id"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>body{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;
color:#1c2a4a}h1{font-size:1.3rem}</style></head>
<body><main><h1>{{ title }}</h1><p>{{ message }}</p></main></body></html>
"""
)


class StaticFileNotFound(Problem):
    """A static file (script, style) the service does not ship."""


def start_csp_nonce() -> list[str]:
    """Starts a request's CSP nonce (the security-headers middleware calls it): a holder that
    gets its value when a template or the page's header first asks (`nonce_of`)."""
    holder: list[str] = []
    _nonce.set(holder)
    return holder


def nonce_of(holder: list[str]) -> str:
    """The request's nonce, drawn on first use."""
    if not holder:
        holder.append(secrets.token_urlsafe(16))
    return holder[0]


def csp_nonce() -> str:
    """The current request's nonce: `<script nonce="{{ csp_nonce() }}">` in a template."""
    holder = _nonce.get()
    return "" if holder is None else nonce_of(holder)


def page_templates(service_file: str) -> Environment:
    """Returns the template environment of the `templates/` folder beside a service module."""
    env = Environment(
        loader=FileSystemLoader(Path(service_file).parent / "templates"),
        autoescape=select_autoescape(["html"]),
    )
    env.globals["csp_nonce"] = csp_nonce
    return env


def wants_html(request: Request) -> bool:
    """Tells whether a request is for a page people open (its errors are pages too)."""
    path = request.url.path
    return not path.startswith(_JSON_PATHS) and not path.endswith((".pdf", ".json"))


def error_response(
    request: Request,
    status: int,
    content: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> Response:
    """An error as JSON for the API, or as a small HTML page for the pages people open."""
    if not wants_html(request):
        return JSONResponse(status_code=status, content=content, headers=headers)
    fallback = "Terjadi kesalahan" if status >= 500 else "Permintaan ditolak"
    title = _ERROR_TITLES.get(status, fallback)
    html = _ERROR_PAGE.render(title=title, message=content.get("message", ""))
    return HTMLResponse(html, status_code=status, headers=headers)
