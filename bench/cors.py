"""What `Cors` adds per request: the same ASGI answer with and without it.

Baseline: a bare ASGI app answering a 2 KB vector tile, called in-process (no socket,
no server) so that only the middleware differs; with a cross-origin `Origin` header
(the case that adds headers) and without one (same-origin: a header scan only).
Prints min/median/max of 5 rounds of 20,000 calls. Run: `python -m bench.cors`.
"""

from __future__ import annotations

import asyncio
import statistics
import time

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from carto.cors import Cors

N = 20_000
ROUNDS = 5
BODY = b"x" * 2048


async def tile(scope: Scope, receive: Receive, send: Send) -> None:
    await Response(BODY, media_type="application/vnd.mapbox-vector-tile")(scope, receive, send)


async def rounds(app, headers: list[tuple[bytes, bytes]]) -> list[float]:  # type: ignore[no-untyped-def]
    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        return None

    out = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(N):
            scope = {"type": "http", "method": "GET", "path": "/tiles/signalements/14/1/1.mvt",
                     "headers": headers}  # fmt: skip
            await app(scope, receive, send)
        out.append((time.perf_counter() - started) / N * 1e6)
    return out


def line(label: str, values: list[float]) -> str:
    return (f"{label:34} min {min(values):6.2f}  median {statistics.median(values):6.2f}  "
            f"max {max(values):6.2f} µs")  # fmt: skip


async def main() -> None:
    cross = [(b"host", b"carto.example"), (b"origin", b"https://app.example")]
    same = [(b"host", b"carto.example"), (b"accept", b"*/*")]
    wrapped = Cors(tile, frozenset({"https://app.example"}))
    print(line("baseline (bare app)", await rounds(tile, cross)))
    print(line("Cors, same-origin (no Origin)", await rounds(wrapped, same)))
    print(line("Cors, cross-origin public read", await rounds(wrapped, cross)))


if __name__ == "__main__":
    asyncio.run(main())
