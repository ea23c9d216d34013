"""A small HTTP/1.1 load generator, run as its own process so it does not share the service's CPU.

Usage: `python -m benchmarks._loadgen SPEC_JSON` where the spec names the target, the mode
(`concurrency` with `requests`, or `rate` with `rate` and `duration_s`), the headers and a body
template; `{i}` in the body and in header values is replaced by the request's number. Prints
one JSON line: sent, ok, errors by status, seconds, p50/p99 in ms.

Keep-alive connections over asyncio streams: the generator costs a few tens of microseconds per
request, far less than the servers it measures.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any
from urllib.parse import urlparse

# uvicorn closes a keep-alive connection after 5 s without a request (timeout_keep_alive); a
# connection idle that long is not reused, as browsers and HTTP clients don't, so that the
# server's close is not counted as a failed request (it showed as status 0 at a fixed rate).
MAX_IDLE_S = 4.0


class Connection:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.last_used = time.monotonic()

    async def request(self, raw: bytes) -> int:
        """Sends one request and reads its response; returns the status code."""
        if self.writer is not None and time.monotonic() - self.last_used > MAX_IDLE_S:
            self.writer.close()
            self.writer = None
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(raw)
        status_line = await self.reader.readline()
        if not status_line:
            self.writer = None
            raise ConnectionError("server closed the connection")
        status = int(status_line.split()[1])
        length, close = 0, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and "close" in value.lower():
                close = True
        if length:
            await self.reader.readexactly(length)
        if close:
            self.writer.close()
            self.writer = None
        self.last_used = time.monotonic()
        return status


def build(spec: dict[str, Any], i: int) -> bytes:
    """The raw bytes of request number i."""
    url = urlparse(spec["url"])
    body = spec["body"].replace("{i}", str(i)).replace("{i8}", f"{i % 10**8:08d}").encode()
    extra = {k: v.replace("{i}", str(i)) for k, v in spec.get("headers", {}).items()}
    headers = {"Host": url.netloc, "Content-Type": "application/json", **extra}
    head = f"POST {url.path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body


async def _one(conn: Connection, raw: bytes, out: dict[str, Any]) -> None:
    started = time.perf_counter()
    try:
        status = await conn.request(raw)
    except (OSError, ConnectionError, ValueError, IndexError):
        status = 0
        conn.writer = None
    out["latencies"].append(time.perf_counter() - started)
    out["statuses"][status] = out["statuses"].get(status, 0) + 1


async def closed_loop(spec: dict[str, Any], out: dict[str, Any]) -> None:
    """`concurrency` workers each send the next request as soon as the last one answered."""
    url = urlparse(spec["url"])
    counter = iter(range(spec["first"], spec["first"] + spec["requests"]))

    async def worker() -> None:
        conn = Connection(url.hostname or "127.0.0.1", url.port or 80)
        for i in counter:
            await _one(conn, build(spec, i), out)

    await asyncio.gather(*(worker() for _ in range(spec["concurrency"])))


async def open_loop(spec: dict[str, Any], out: dict[str, Any]) -> None:
    """Sends at a fixed rate whatever the answers (latency includes queueing: no coordination)."""
    url = urlparse(spec["url"])
    idle: list[Connection] = []
    total = int(spec["rate"] * spec["duration_s"])
    start = time.perf_counter()
    tasks = []

    async def fire(i: int) -> None:
        conn = idle.pop() if idle else Connection(url.hostname or "127.0.0.1", url.port or 80)
        await _one(conn, build(spec, i), out)
        idle.append(conn)

    for n in range(total):
        delay = start + n / spec["rate"] - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(fire(spec["first"] + n)))
    await asyncio.gather(*tasks)


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of the values, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


async def main(spec: dict[str, Any]) -> dict[str, Any]:
    """Runs the load described by spec and returns its figures."""
    out: dict[str, Any] = {"latencies": [], "statuses": {}}
    started = time.perf_counter()
    await (closed_loop if spec["mode"] == "concurrency" else open_loop)(spec, out)
    seconds = time.perf_counter() - started
    ok = sum(n for status, n in out["statuses"].items() if 200 <= status < 300)
    return {
        "sent": len(out["latencies"]),
        "ok": ok,
        "statuses": {str(k): v for k, v in out["statuses"].items()},
        "seconds": seconds,
        "p50_ms": percentile(out["latencies"], 0.50) * 1000,
        "p99_ms": percentile(out["latencies"], 0.99) * 1000,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(json.loads(sys.argv[1])))), flush=True)
