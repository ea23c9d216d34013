"""A replicated Redis of the test's own: a master, a replica and three sentinels on spare ports."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import redis

from services.embedded_redis import redis_server_command
from tests.processes import redis_server_binary
from tests.support import free_port

MASTER_NAME = "menjamu"


class ReplicatedRedis:
    """Two redis-servers (master, replica, AOF on) watched by three sentinels (quorum 2)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.ports = [free_port(), free_port()]  # [0] starts as master, [1] as its replica
        self.sentinel_ports = [free_port(), free_port(), free_port()]
        self.servers: dict[int, subprocess.Popen[bytes]] = {}
        self.sentinels: list[subprocess.Popen[bytes]] = []

    def url(self, db: int = 0) -> str:
        """The redis+sentinel:// URL services are given."""
        nodes = ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)
        return f"redis+sentinel://{nodes}/{MASTER_NAME}/{db}"

    def start(self) -> None:
        """Starts master, replica and sentinels; returns once the sentinels see the replica."""
        self.start_server(self.ports[0])
        self.start_server(self.ports[1], replica_of=self.ports[0])
        _wait(lambda: self._replica_in_sync(self.ports[1]), 20, "the replica's first sync")
        for port in self.sentinel_ports:
            self.sentinels.append(self._start_sentinel(port))
        _wait(self._sentinels_agree, 30, "three sentinels that know each other and the replica")

    def start_server(self, port: int, replica_of: int | None = None) -> None:
        """Starts (or restarts) one data node on its port and folder."""
        folder = self.directory / str(port)
        folder.mkdir(parents=True, exist_ok=True)
        command = redis_server_command(redis_server_binary(), port, folder)
        if replica_of is not None:
            command += ["--replicaof", "127.0.0.1", str(replica_of)]
        self.servers[port] = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _wait(lambda: _client(port).ping(), 15, f"redis-server on {port}")

    def _start_sentinel(self, port: int) -> subprocess.Popen[bytes]:
        folder = self.directory / f"sentinel-{port}"
        folder.mkdir(parents=True, exist_ok=True)
        config = folder / "sentinel.conf"
        config.write_text(
            f"port {port}\nbind 127.0.0.1\ndir {folder}\n"
            f"sentinel monitor {MASTER_NAME} 127.0.0.1 {self.ports[0]} 2\n"
            f"sentinel down-after-milliseconds {MASTER_NAME} 1000\n"
            f"sentinel failover-timeout {MASTER_NAME} 5000\n"
            f"sentinel parallel-syncs {MASTER_NAME} 1\n"
        )
        return subprocess.Popen(
            [redis_server_binary(), str(config), "--sentinel"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def master_port(self) -> int:
        """The master's port as the sentinels tell it now."""
        for port in self.sentinel_ports:
            try:
                _host, master = _client(port).sentinel_get_master_addr_by_name(MASTER_NAME)
                return int(master)
            except (redis.RedisError, TypeError):
                continue
        raise AssertionError("no sentinel answers")

    def kill_master(self) -> int:
        """SIGKILLs the current master (no shutdown, no last AOF write); returns its port."""
        port = self.master_port()
        proc = self.servers[port]
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        return port

    def wait_for_failover(self, old_port: int, timeout: float = 60) -> int:
        """Waits until the sentinels promoted another node and it accepts writes."""

        def promoted() -> bool:
            port = self.master_port()
            if port == old_port:
                return False
            role = _client(port).info("replication").get("role")
            return role == "master"

        _wait(promoted, timeout, "the sentinels' failover")
        return self.master_port()

    def _replica_in_sync(self, port: int) -> bool:
        info = _client(port).info("replication")
        return info.get("master_link_status") == "up"

    def _sentinels_agree(self) -> bool:
        for port in self.sentinel_ports:
            client = _client(port)
            if len(client.sentinel_slaves(MASTER_NAME)) < 1:
                return False
            if len(client.sentinel_sentinels(MASTER_NAME)) < 2:
                return False
        return True

    def stop(self) -> None:
        """Stops every process this object started."""
        for proc in [*self.sentinels, *self.servers.values()]:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()


def _client(port: int) -> redis.Redis:
    return redis.Redis(port=port, socket_connect_timeout=0.5, socket_timeout=2)


def _wait(probe: object, timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while True:
        try:
            if probe():  # type: ignore[operator]
                return
        except redis.RedisError:
            pass
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
