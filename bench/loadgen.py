"""A small, bounded HTTP/1.1 load generator on asyncio streams (loopback only).

httpx costs several times more CPU per request than the server under test on this
2-core machine, which would cap both sides; raw keep-alive connections keep the
client's share small. Each connection posts form bodies in a loop until the
deadline or the request budget, and records status, latency and the returned id.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit


@dataclass
class LoadResult:
    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> int:
        return self.statuses.get(201, 0) + self.statuses.get(200, 0)


def _check_loopback(host: str) -> None:
    if host not in ("127.0.0.1", "localhost", "::1") and not host.startswith("127."):
        raise ValueError(f"load tests target loopback only, not {host}")


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            length = int(value.strip())
        elif name.lower() == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if not chunked:
        return status, await reader.readexactly(length)
    body = b""
    while True:
        size = int((await reader.readuntil(b"\r\n")).strip(), 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return status, body
        body += await reader.readexactly(size + 2)
        body = body[:-2]


async def _connect(
    host: str, port: int, deadline: float, stop: threading.Event | None = None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
    """Connect, retrying every 50 ms until the deadline (a killed server is restarting)."""
    while True:
        try:
            return await asyncio.open_connection(host, port)
        except OSError:
            if time.perf_counter() >= deadline or (stop is not None and stop.is_set()):
                return None
            await asyncio.sleep(0.05)


async def _worker(
    url: str, make_body: Callable[[random.Random], dict[str, object]], deadline: float,
    budget: list[int], result: LoadResult, seed: int, stop: threading.Event | None = None,
    keyed: bool = False,
) -> None:  # fmt: skip
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    _check_loopback(host)
    rng = random.Random(seed)
    conn = await _connect(host, port, deadline, stop)
    if conn is None:
        return
    reader, writer = conn
    try:
        while time.perf_counter() < deadline and budget[0] > 0 and not (stop and stop.is_set()):
            budget[0] -= 1
            body = urlencode(make_body(rng)).encode()
            key = f"Idempotency-Key: {uuid.uuid4().hex}\r\n" if keyed else ""
            request = (
                f"POST {parts.path} HTTP/1.1\r\nHost: {host}:{port}\r\n{key}"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode() + body
            started = time.perf_counter()
            try:
                writer.write(request)
                await writer.drain()
                status, payload = await _read_response(reader)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                result.errors += 1
                writer.close()
                conn = await _connect(host, port, deadline, stop)  # the server may be restarting
                if conn is None:
                    return
                reader, writer = conn
                continue
            result.latencies.append(time.perf_counter() - started)
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if status in (200, 201):
                data = json.loads(payload)
                item = data[0] if isinstance(data, list) else data
                result.ids.append(str(item.get("service_request_id") or item.get("id")))
    finally:
        writer.close()


async def run_load(
    url: str, make_body: Callable[[random.Random], dict[str, object]], *,
    clients: int, seconds: float, max_requests: int = 2_000_000,
    stop: threading.Event | None = None, keyed: bool = False,
) -> LoadResult:  # fmt: skip
    """Post from `clients` keep-alive connections for `seconds` (bounded by max_requests),
    or until `stop` is set (set from another thread)."""
    result = LoadResult()
    budget = [max_requests]
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(
            _worker(url, make_body, deadline, budget, result, seed=i, stop=stop, keyed=keyed)
            for i in range(clients)
        )
    )
    result.seconds = time.perf_counter() - started
    return result
