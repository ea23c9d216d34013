"""Redis servers whose crash loses what a machine crash loses (for the durability fault tests).

A kill -9 of Redis alone loses nothing it has written: the kernel keeps the pages and puts them
on disk later. A machine crash (power, kernel) loses what was written but not fsynced. A test
cannot crash the machine, so `CrashableRedis` preloads tests/fault/lazy_disk.c into the server:
its AOF writes stay in the process's memory until fsync, and a kill -9 then loses exactly what
the crash of its machine would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import redis

from services.embedded_redis import embedded_binary, redis_server_command
from tests.processes import RedisServer

SHIM_SOURCE = Path(__file__).with_name("lazy_disk.c")


def build_lazy_disk(directory: Path) -> Path:
    """Compiles the lazy-disk library; skips the test without a C compiler (fails under CI)."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        if os.environ.get("CI") == "true":
            pytest.fail("a C compiler is needed for the machine-crash fault tests")
        pytest.skip("no C compiler for the machine-crash fault tests")
    library = directory / "lazy_disk.so"
    subprocess.run(
        [compiler, "-shared", "-fPIC", "-O1", "-o", str(library), str(SHIM_SOURCE), "-ldl"],
        check=True,
        capture_output=True,
    )
    return library


class CrashableRedis(RedisServer):
    """The Valkey of `make run`; `crash()` loses what its machine's crash would lose."""

    def __init__(
        self, directory: Path, lazy_disk: Path, fsync: str, extra: tuple[str, ...] = ()
    ) -> None:
        super().__init__(directory, binary=embedded_binary(), fsync=fsync)
        self.lazy_disk = lazy_disk
        self.extra = extra

    def start(self) -> None:
        """Starts the server with the lazy disk under its AOF."""
        command = redis_server_command(embedded_binary(), self.port, self.directory, self.fsync)
        self.proc = subprocess.Popen(
            [*command, *self.extra],
            env={**os.environ, "LD_PRELOAD": str(self.lazy_disk)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5, socket_timeout=2)
        deadline = time.monotonic() + 30
        while True:
            try:
                if client.ping():
                    break
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise AssertionError("valkey-server did not start") from None
                time.sleep(0.1)
        client.close()

    def crash(self) -> None:
        """kill -9: what the server had not fsynced is gone, as after a power loss."""
        self.kill9()
