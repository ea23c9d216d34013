"""Fixtures: the machine's real Redis and PostgreSQL, isolated per test."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import redis
from redis.asyncio import Redis as AsyncRedis

from shared.settings import ServiceSettings
from tests.support import PG_URL, REDIS_HOST, REDIS_PORT, make_settings, require_server

TEST_REDIS_DB = int(os.environ.get("MENJAMU_TEST_REDIS_DB", "15"))


@pytest.fixture
def redis_url() -> Iterator[str]:
    """The machine's Redis, database 15, emptied before the test."""
    require_server("Redis", REDIS_HOST, REDIS_PORT)
    url = f"redis://{REDIS_HOST}:{REDIS_PORT}/{TEST_REDIS_DB}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    yield url


@pytest.fixture
def pg_url() -> str:
    """The machine's PostgreSQL (database `test`)."""
    require_server("PostgreSQL", "127.0.0.1", 5432)
    return PG_URL


@pytest.fixture
def schema_prefix(pg_url: str) -> Iterator[str]:
    """A unique schema prefix per test; its schemas are dropped afterwards."""
    prefix = f"t{uuid.uuid4().hex[:8]}_"
    yield prefix
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _drop_schemas(pg_url, prefix)).result()


async def _drop_schemas(pg_url: str, prefix: str) -> None:
    conn = await asyncpg.connect(pg_url)
    try:
        rows = await conn.fetch(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE $1", prefix + "%"
        )
        for row in rows:
            await conn.execute(f'DROP SCHEMA "{row["nspname"]}" CASCADE')
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", "postgres"])
def settings_for(
    request: pytest.FixtureRequest, tmp_path: Path, redis_url: str
) -> Callable[..., Any]:
    """Builds a service's test settings: once on SQLite, once on a PostgreSQL schema of its own."""
    database_url, prefix = None, ""
    if request.param == "postgres":
        database_url, prefix = PG_URL, request.getfixturevalue("schema_prefix")

    def build(cls: type[ServiceSettings], **overrides: Any) -> Any:
        values: dict[str, Any] = {
            "data_dir": tmp_path,
            "redis_url": redis_url,
            "database_url": database_url,
            "schema_prefix": prefix,
        }
        return make_settings(cls, **{**values, **overrides})

    return build


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[AsyncRedis]:
    """An async client of the test Redis database."""
    client = AsyncRedis.from_url(redis_url)
    yield client
    await client.aclose()
