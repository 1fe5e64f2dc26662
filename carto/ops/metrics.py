"""`/metrics` for Prometheus: request latency and status per route template, tile cache
hits, rate-limit refusals (counted by a pure ASGI middleware), and gauges read at scrape
time (outbox, pools, replica lag).

Not public: `/metrics` answers only `Authorization: Bearer $CARTO_METRICS_TOKEN`
(otherwise the usual 404, also when the token is unset: then no middleware either). Route
templates, not paths, label the series (`/tiles/{layer}/{z}/{x}/{y}.mvt`), so their
number stays bounded; label children are cached, so a request costs two dict lookups
and two observations (bench/metrics.py measures it).
"""

from __future__ import annotations

import hmac
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from carto.errors import NotFound
from carto.settings import Settings

REQUEST_SECONDS = Histogram(
    "carto_http_request_duration_seconds", "Time to answer, by route template.",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)  # fmt: skip
REQUESTS = Counter(
    "carto_http_requests", "Answers, by route and status.", ["method", "route", "status"]
)
RATE_LIMITED = Counter("carto_rate_limit_refusals", "Requests refused with 429.", ["route"])
TILE_CACHE = Counter(
    "carto_tile_cache_requests", "Tiles answered from the shared cache or rendered.",
    ["result", "source"],
)  # fmt: skip
OUTBOX = Gauge("carto_outbox_messages", "Notification outbox rows.", ["channel", "status"])
OUTBOX_PENDING = Gauge("carto_outbox_pending", "Notifications not delivered yet.")
OUTBOX_OLDEST = Gauge("carto_outbox_oldest_pending_seconds", "Age of the oldest undelivered.")
POOL_IN_USE = Gauge("carto_db_pool_in_use", "Connections checked out, by pool.", ["pool"])
POOL_SIZE = Gauge("carto_db_pool_size", "Connections open, by pool.", ["pool"])
REPLICA_LAG = Gauge("carto_replica_lag_seconds", "Read replica lag (-1: none or unknown).")

UNMATCHED = "<sans route>"
TILE_SOURCE = b"x-tile-source"
OUTBOX_SQL = """
SELECT channel, status, count(*) AS n,
       extract(epoch FROM now() - min(created_at)) AS age
FROM notification_outbox GROUP BY channel, status
"""
UNDELIVERED = ("pending", "sending", "failed")


def route_template(scope: Scope) -> str:
    """The matched route's template (a mounted app's inner route after its prefix)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if path is None:
        return UNMATCHED
    return f"{scope.get('root_path', '')}{path}" if scope.get("root_path") else str(path)


class MetricsMiddleware:
    """Times every HTTP answer; counts status, 429s and the tile cache's answers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        is_tile = scope["path"].startswith("/tiles/")

        async def send_and_see(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if is_tile:
                    _count_tile(message)
            await send(message)

        try:
            await self.app(scope, receive, send_and_see)
        finally:
            key = (scope["method"], route_template(scope), status)
            children = self._children.get(key)
            if children is None:
                children = self._children[key] = (
                    REQUEST_SECONDS.labels(key[0], key[1]),
                    REQUESTS.labels(key[0], key[1], str(status)),
                )
                if status == 429:
                    RATE_LIMITED.labels(key[1])
            children[0].observe(time.perf_counter() - started)
            children[1].inc()
            if status == 429:
                RATE_LIMITED.labels(key[1]).inc()


def _count_tile(message: Message) -> None:
    for name, value in message.get("headers", ()):
        if name == TILE_SOURCE:
            source = value.decode("latin-1")
            TILE_CACHE.labels("hit" if source == "cache" else "miss", source).inc()
            return


async def _read_gauges(app: FastAPI) -> None:
    """The values only the database and the pools know, read at scrape time."""
    state = app.state
    async with state.engine.connect() as conn:
        rows = (await conn.execute(text(OUTBOX_SQL))).all()
    OUTBOX.clear()
    pending, oldest = 0, 0.0
    for row in rows:
        OUTBOX.labels(row.channel, row.status).set(row.n)
        if row.status in UNDELIVERED:
            pending += row.n
            oldest = max(oldest, float(row.age or 0))
    OUTBOX_PENDING.set(pending)
    OUTBOX_OLDEST.set(oldest)
    for name in ("engine", "reader_engine", "read_engine"):
        engine = getattr(state, name, None)
        if engine is not None:
            pool = engine.pool
            POOL_IN_USE.labels(name).set(pool.checkedout())
            POOL_SIZE.labels(name).set(pool.checkedout() + pool.checkedin())
    for name in ("tile_pool", "tile_public_pool", "tile_read_pool"):
        apool = getattr(state, name, None)
        if apool is not None:
            POOL_SIZE.labels(name).set(apool.get_size())
            POOL_IN_USE.labels(name).set(apool.get_size() - apool.get_idle_size())
    replica = getattr(state, "replica", None)
    lag = getattr(replica, "lag_s", None)
    REPLICA_LAG.set(-1 if lag is None else lag)


def install_metrics(app: FastAPI, settings: Settings) -> None:
    """`/metrics` (a 404 unless `Authorization: Bearer $CARTO_METRICS_TOKEN`) and, when
    the token is set, the middleware (unset: no cost at all)."""
    token = settings.metrics_token
    expected = f"Bearer {token}".encode() if token else None

    async def metrics(request: Request) -> Response:
        given = request.headers.get("authorization", "").encode()
        if expected is None or not hmac.compare_digest(given, expected):
            raise NotFound("Page introuvable.")
        await _read_gauges(request.app)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    app.add_api_route("/metrics", metrics, include_in_schema=False)
    if expected is not None:
        app.add_middleware(MetricsMiddleware)
