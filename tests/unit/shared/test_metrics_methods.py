"""Request metrics stay bounded whatever method a client sends."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from shared.metrics import HTTP_REQUESTS, MetricsMiddleware


async def _ok(_request: object) -> PlainTextResponse:
    return PlainTextResponse("ok")


def _methods_counted(service: str) -> dict[str, float]:
    counted: dict[str, float] = {}
    for metric in HTTP_REQUESTS.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total") and sample.labels["service"] == service:
                method = sample.labels["method"]
                counted[method] = counted.get(method, 0) + sample.value
    return counted


async def test_odd_methods_share_one_label() -> None:
    service = "test-odd-methods"
    app = MetricsMiddleware(Starlette(routes=[Route("/x", _ok, methods=["GET"])]), service)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        assert (await client.get("/x")).status_code == 200
        for i in range(40):
            await client.request(f"BREW{i}", "/x")
    assert _methods_counted(service) == {"GET": 1, "OTHER": 40}
