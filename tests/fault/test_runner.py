"""`menjamu run` as a supervisor: a crashed embedded Redis comes back, SIGHUP stops everything,
and a runner killed without warning leaves nothing that blocks the next run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from services.embedded_redis import command_line, pid_alive, port_free, read_pid
from tests.processes import ROOT
from tests.support import free_port

pytestmark = [pytest.mark.fault, pytest.mark.integration]
ONLY = ("registration", "survey")  # two services are enough to prove the supervision


class Runner:
    """`python -m services.cli run --only ...` on the embedded default in a data folder."""

    def __init__(self, tmp_path: Path) -> None:
        self.data = tmp_path / "data"
        self.ports = {name: free_port() for name in ONLY}
        self.redis_port = free_port()
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("REDIS_URL", "DATABASE_URL", "MENJAMU_ADMIN_TOKEN")
        }
        self.env.update({f"{name.upper()}_PORT": str(p) for name, p in self.ports.items()})
        self.env.update(
            {
                "MENJAMU_DATA_DIR": str(self.data),
                "MENJAMU_EMBEDDED_REDIS_PORT": str(self.redis_port),
                "PYTHONUNBUFFERED": "1",
            }
        )
        self.log = tmp_path / "run.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Runner:
        """Starts the runner and waits for its banner and every service's /ready."""
        banners = self.banners()
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "services.cli", "run", "--only", *ONLY],
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait(lambda: self.banners() > banners, 120, "the runner's banner")
            wait(self.all_ready, 120, "every service ready")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; log:\n{self.log.read_text()[-4000:]}") from None
        return self

    def banners(self) -> int:
        """How many times a runner printed its banner into the log."""
        return self.log.read_text().count("data folder:") if self.log.exists() else 0

    def all_ready(self) -> bool:
        """True when every service answers /ready with 200."""
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"runner exited:\n{self.log.read_text()[-3000:]}")
        for port in self.ports.values():
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=3).status_code != 200:
                    return False
            except httpx.HTTPError:
                return False
        return True

    def pids(self) -> dict[str, int]:
        """Pids of the services and the embedded Redis, from the runner's pid files."""
        found = {name: read_pid(self.data / "run" / f"{name}.pid") for name in ONLY}
        found["redis"] = read_pid(self.data / "redis" / "redis.pid")
        return {name: pid for name, pid in found.items() if pid}

    def everything_gone(self) -> bool:
        """True when no process of the run is alive and no port of it is taken."""
        return all(port_free(p) for p in [*self.ports.values(), self.redis_port])

    def stop(self) -> None:
        """Stops the runner (SIGTERM) if it still runs."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(60)


def wait(probe: object, timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while not probe():  # type: ignore[operator]
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.fixture
def runner(tmp_path: Path) -> object:
    running = Runner(tmp_path)
    yield running
    running.stop()
    for pid in running.pids().values():  # never leave a process behind, whatever failed
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_a_crashed_embedded_redis_is_restarted_and_sighup_stops_everything(
    runner: Runner,
) -> None:
    runner.start()
    first = runner.pids()["redis"]
    os.kill(first, signal.SIGKILL)
    wait(lambda: runner.pids().get("redis") not in (None, first), 60, "a new Redis pid")
    wait(runner.all_ready, 120, "services ready again on the restarted Redis")
    assert runner.proc is not None
    runner.proc.send_signal(signal.SIGHUP)  # the terminal was closed
    assert runner.proc.wait(60) == 0
    wait(runner.everything_gone, 30, "every port free")
    assert "restarting it" in runner.log.read_text()


def test_a_runner_killed_without_warning_leaves_nothing_that_blocks_the_next(
    runner: Runner,
) -> None:
    runner.start()
    orphans = runner.pids()
    assert runner.proc is not None
    runner.proc.kill()  # no clean-up: services and Redis keep running as orphans
    runner.proc.wait(10)
    assert all(pid_alive(pid) for pid in orphans.values())
    runner.start()  # finds them by their pid files, stops them and starts afresh
    alive = {n: (p, command_line(p)) for n, p in orphans.items() if pid_alive(p)}
    assert not alive, alive
    assert "left running by an earlier run" in runner.log.read_text()
