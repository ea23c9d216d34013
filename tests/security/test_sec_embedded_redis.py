"""Finding 13: `make run`'s embedded Redis needs a password, and its files are private."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import redis

from services.supervisor import start_embedded_redis
from shared.datafiles import protect_data_dir
from tests.support import free_port

pytestmark = pytest.mark.integration


def test_the_embedded_redis_refuses_clients_without_its_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MENJAMU_EMBEDDED_REDIS_PORT", str(port := free_port()))
    data_dir = tmp_path / "data"
    protect_data_dir(data_dir)
    proc, url = start_embedded_redis(data_dir)
    try:
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(port=port).ping()
        client = redis.Redis.from_url(url)
        client.xadd("sec.embedded.v1", {"phone": "+6281234567890"})
        assert client.xlen("sec.embedded.v1") == 1
        assert url.startswith("redis://:") and "@127.0.0.1:" in url
        client.close()
    finally:
        proc.terminate()
        proc.wait(10)
    password = url.split("@", 1)[0].rsplit(":", 1)[1]
    assert password not in " ".join(map(str, proc.args))  # not visible in `ps`
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    for path in data_dir.rglob("*"):
        wanted = 0o700 if path.is_dir() else 0o600
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, (path, wanted)
