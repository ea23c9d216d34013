"""Fixtures of the security tests: any of the four services in-process, over its ASGI app."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import make_settings, running_app

SERVICES = ("registration", "certificates", "consultation", "survey")
PARTICIPANT = {
    "name": "Ayu Lestari",
    "school": "SMAN 1 Mojosari",
    "phone": "0812-3456-7890",
    "level": "SMA",
    "desa": "Wonokusumo",
    "consent": True,
}
EVENT = {"title": "Sosialisasi Adminduk", "date": "2026-12-05", "location": "Pendopo"}
ServiceRunner = Callable[..., AbstractAsyncContextManager[tuple[Any, httpx.AsyncClient]]]


@pytest.fixture
def service_app(tmp_path: Path, redis_url: str) -> ServiceRunner:
    """Runs one service in-process on SQLite and the test Redis: `async with service_app(name)`."""

    @asynccontextmanager
    async def run(
        name: str, *, data_dir: Path | None = None, **overrides: Any
    ) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
        module = importlib.import_module(f"services.{name}.app")
        settings_cls = importlib.import_module(f"services.{name}.settings").Settings
        values: dict[str, Any] = {"rate_limit_per_address": 0, **overrides}
        settings = make_settings(
            settings_cls,
            data_dir=data_dir or tmp_path / name,
            redis_url=redis_url,
            database_url=None,
            **values,
        )
        async with running_app(module.create_app, settings, module.MIGRATIONS) as pair:
            yield pair

    return run


async def create_event(client: httpx.AsyncClient, token: str, **overrides: Any) -> str:
    """Creates a socialisation event as the given token's holder; returns its id."""
    response = await client.post(
        "/api/v1/events", json={**EVENT, **overrides}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])
