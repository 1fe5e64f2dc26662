"""What `SecurityHeaders` adds per request: the same ASGI answer with and without it.

Baseline: a bare ASGI app answering a 2 KB vector tile (the hot path) or a small HTML
page, called in-process (no socket, no server) so that only the middleware differs.
Run: `python -m bench.security_headers`.
"""

from __future__ import annotations

import asyncio
import time

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from carto.security_headers import SecurityHeaders

N = 50_000


def endpoint(media_type: str):  # type: ignore[no-untyped-def]
    body = b"x" * 2048

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await Response(body, media_type=media_type)(scope, receive, send)

    return app


async def per_request_us(app, path: str) -> float:  # type: ignore[no-untyped-def]
    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        return None

    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(N):
            scope = {"type": "http", "method": "GET", "path": path, "headers": []}
            await app(scope, receive, send)
        best = min(best, (time.perf_counter() - started) / N * 1e6)
    return best


async def main() -> None:
    for label, media, path in (
        ("tile (MVT)", "application/vnd.mapbox-vector-tile", "/tiles/signalements/14/1/1.mvt"),
        ("HTML page", "text/html; charset=utf-8", "/rgpd"),
        ("/ogc HTML (nonce)", "text/html; charset=utf-8", "/ogc/collections"),
    ):
        bare = endpoint(media)
        base = await per_request_us(bare, path)
        wrapped = await per_request_us(SecurityHeaders(bare), path)
        print(f"{label:20} baseline {base:6.2f} µs  with headers {wrapped:6.2f} µs  "
              f"(+{wrapped - base:.2f} µs)")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
