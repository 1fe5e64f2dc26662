"""What `MetricsMiddleware` adds per request: the same ASGI answer with and without it.

Baseline: a bare ASGI app answering a 2 KB vector tile (with its X-Tile-Source
header, which the middleware reads) or a small JSON intake answer, called
in-process (no socket, no server) so that only the middleware differs; the
route is set in the scope as the router would. Run: `python -m bench.metrics`.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from types import SimpleNamespace

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from carto.ops.http_stats import HttpStats, MetricsMiddleware

N = 50_000
ROUNDS = 5


def endpoint(media_type: str, template: str, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    body = b"x" * 2048
    route = SimpleNamespace(path=template)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = route
        await Response(body, media_type=media_type, headers=headers)(scope, receive, send)

    return app


async def per_request_us(app, path: str) -> list[float]:  # type: ignore[no-untyped-def]
    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        return None

    rounds = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(N):
            scope = {"type": "http", "method": "GET", "path": path, "headers": []}
            await app(scope, receive, send)
        rounds.append((time.perf_counter() - started) / N * 1e6)
    return rounds


def fmt(values: list[float]) -> str:
    return f"{min(values):5.2f}/{statistics.median(values):5.2f}/{max(values):5.2f}"


async def main() -> None:
    print(f"µs per request, min/median/max of {ROUNDS} rounds of {N:,} (in-process)")
    for label, media, template, path, headers in (
        ("tile (MVT)", "application/vnd.mapbox-vector-tile", "/tiles/{layer}/{z}/{x}/{y}.mvt",
         "/tiles/signalements/14/1/1.mvt", {"X-Tile-Source": "cache"}),
        ("intake (JSON)", "application/json", "/open311/v2/requests.json",
         "/open311/v2/requests.json", {}),
    ):  # fmt: skip
        bare = endpoint(media, template, headers)
        base = await per_request_us(bare, path)
        wrapped = await per_request_us(MetricsMiddleware(bare, HttpStats()), path)
        extra = [w - b for w, b in zip(wrapped, base, strict=True)]
        print(f"{label:14} baseline {fmt(base)}  with metrics {fmt(wrapped)}  "
              f"(+{statistics.median(extra):.2f} µs median)")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
