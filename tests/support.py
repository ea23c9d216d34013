"""Helpers shared by the test tiers: real servers, settings for tests, app clients, waiting."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from shared.migrations import upgrade
from shared.settings import ServiceSettings

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
PG_URL = os.environ.get("MENJAMU_TEST_PG_URL", "postgresql://127.0.0.1:5432/test")
ADMIN_TOKEN = "test-admin-token"
S = TypeVar("S", bound=ServiceSettings)


def port_open(host: str, port: int) -> bool:
    """Tells whether a TCP server answers on host:port."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def require_server(name: str, host: str, port: int) -> None:
    """Skips a test when a real server is absent, but fails it under CI=true."""
    if port_open(host, port):
        return
    message = f"{name} is not running on {host}:{port}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; CI must provide it")
    pytest.skip(message)


def free_port() -> int:
    """Returns a TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def make_settings(
    cls: type[S],
    *,
    data_dir: Path,
    redis_url: str,
    database_url: str | None,
    schema_prefix: str = "",
    **overrides: Any,
) -> S:
    """Builds service settings for tests: fast polling, short claim idle, known admin token."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "redis_url": redis_url,
        "database_url": database_url,
        "db_schema_prefix": schema_prefix,
        "admin_token": ADMIN_TOKEN,
        "claim_idle_ms": 1000,
        "poll_ms": 100,
        "relay_interval_ms": 50,
        "max_deliveries": 3,
        "consumer_name": f"test-{uuid.uuid4().hex[:6]}",
        # Tests send everything from one address; tests/security checks the limits themselves.
        "rate_limit_per_address": 0,
    }
    values.update(overrides)
    return cls.model_validate(values)


@asynccontextmanager
async def running_app(
    create_app: Callable[[S], Any], settings: S, migrations: Path
) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    """Migrates, starts the app (relay, consumers ready) and yields (app, client)."""
    await asyncio.to_thread(upgrade, settings, migrations)
    app = create_app(settings)
    async with app.router.lifespan_context(app):

        async def messaging_started() -> bool:
            return bool(app.state.runtime.messaging_started)

        # Consumer groups exist from here on, as in a deployed service that reports ready.
        await wait_for(messaging_started, what="the service's consumers")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield app, client


def auth(token: str = ADMIN_TOKEN) -> dict[str, str]:
    """Authorization header for a token (the admin's by default)."""
    return {"Authorization": f"Bearer {token}"}


T = TypeVar("T")


async def wait_for(
    probe: Callable[[], Awaitable[T]],
    *,
    timeout: float = 20.0,
    every: float = 0.1,
    what: str = "condition",
) -> T:
    """Polls an async probe until it returns a truthy value, or fails after timeout."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(every)
