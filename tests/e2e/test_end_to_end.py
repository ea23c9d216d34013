"""All four services as separate processes: a registration to a PDF and an invitation, a
survey response to an updated IKM; on real Redis and PostgreSQL, and on the embedded default."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.journey import Urls, follow_registration, follow_survey
from tests.processes import ROOT, ServiceProcess, migrate, service_env
from tests.support import ADMIN_TOKEN, PG_URL, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
SERVICES = ("registration", "certificates", "consultation", "survey")


@pytest.fixture
def services(
    tmp_path: Path, redis_url: str, schema_prefix: str
) -> Iterator[dict[str, ServiceProcess]]:
    env = service_env(
        redis_url=redis_url, data_dir=tmp_path, database_url=PG_URL, schema_prefix=schema_prefix
    )
    migrate(env, *SERVICES)
    procs = {name: ServiceProcess(name, env, tmp_path) for name in SERVICES}
    try:
        for proc in procs.values():
            proc.start()
        yield procs
    finally:
        for proc in procs.values():
            proc.stop()


def _assert_journey(result: dict[str, object], ikm: dict[str, object]) -> None:
    certificates = result["certificates"]
    assert isinstance(certificates, list) and len(certificates) == 1
    assert certificates[0]["number"].startswith("0001/")
    pdf = result["pdf"]
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")  # type: ignore[attr-defined]
    invitations = result["invitations"]
    assert isinstance(invitations, list) and invitations[0]["status"] == "sent"
    assert ikm["konversi_display"] == "86.11" and ikm["mutu"] == "B"


async def test_journey_on_redis_and_postgres(services: dict[str, ServiceProcess]) -> None:
    urls = Urls(*(services[name].url for name in SERVICES))
    result = await follow_registration(urls, ADMIN_TOKEN, correlation_id="e2e-journey-1")
    ikm = await follow_survey(urls, ADMIN_TOKEN)
    _assert_journey(result, ikm)
    # One participant's journey can be followed across the services' logs by one id.
    for name in ("registration", "certificates", "consultation"):
        lines = [
            json.loads(line)
            for line in services[name].log_path.read_text().splitlines()
            if line.startswith("{")
        ]
        mine = [line for line in lines if line.get("correlation_id") == "e2e-journey-1"]
        assert mine, f"{name} logged nothing with the participant's correlation id"
        text = services[name].log_path.read_text()
        assert "81234567890" not in text and "Ayu Lestari" not in text, f"{name} leaked data"


async def test_journey_on_the_embedded_default(tmp_path: Path) -> None:
    """`menjamu run` (what `make run` starts) with no REDIS_URL and no DATABASE_URL."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("REDIS_URL", "DATABASE_URL", "MENJAMU_ADMIN_TOKEN")
    }
    ports = {name: free_port() for name in SERVICES}
    env.update({f"{name.upper()}_PORT": str(port) for name, port in ports.items()})
    env.update(
        {
            "MENJAMU_DATA_DIR": str(tmp_path / "data"),
            "MENJAMU_EMBEDDED_REDIS_PORT": str(free_port()),
            "DASHBOARD_PORT": str(free_port()),
            "PYTHONUNBUFFERED": "1",
        }
    )
    log_path = tmp_path / "run.log"
    with log_path.open("wb") as log:
        runner = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "run"],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        token = _wait_for_token(log_path, runner)
        urls = Urls(*(f"http://127.0.0.1:{ports[name]}" for name in SERVICES))
        result = await follow_registration(urls, token, correlation_id="e2e-embedded-1")
        ikm = await follow_survey(urls, token)
        _assert_journey(result, ikm)
        assert (tmp_path / "data" / "certificates.sqlite3").exists()
        assert (tmp_path / "data" / "redis").is_dir()
        # `make run` also writes each service's JSON log to data/logs/<service>.log.
        first = (tmp_path / "data" / "logs" / "registration.log").read_text().splitlines()[0]
        assert json.loads(first)["service"] == "registration"
    finally:
        runner.send_signal(signal.SIGINT)
        code = runner.wait(60)
    output = log_path.read_text()
    assert code == 0, output[-3000:]
    assert "stopped" in output


def _wait_for_token(log_path: Path, runner: subprocess.Popen[bytes]) -> str:
    deadline = time.time() + 90
    while time.time() < deadline:
        output = log_path.read_text()
        if runner.poll() is not None:
            raise AssertionError(f"menjamu run exited:\n{output[-3000:]}")
        match = re.search(r"admin token \(generated into .*?\): (\S+)", output)
        # `menjamu run` starts the dashboard too: wait for all of them.
        if match and output.count("Application startup complete") >= len(SERVICES) + 1:
            return match.group(1)
        time.sleep(0.2)
    raise AssertionError(f"menjamu run did not come up:\n{log_path.read_text()[-3000:]}")
