"""`/metrics` for Prometheus: the request figures of `http_stats`, the routing counters
of `carto.metrics`, and gauges read at scrape time (outbox, pools, replica lag).

Not public: `/metrics` answers only `Authorization: Bearer $CARTO_METRICS_TOKEN`
(otherwise the usual 404, also when the token is unset: then no middleware either).
"""

from __future__ import annotations

import hmac

from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Gauge, generate_latest
from sqlalchemy import text

from carto.errors import NotFound
from carto.ops.http_stats import HttpStats, MetricsMiddleware
from carto.settings import Settings

OUTBOX = Gauge("carto_outbox_messages", "Notification outbox rows.", ["channel", "status"])
OUTBOX_PENDING = Gauge("carto_outbox_pending", "Notifications not delivered yet.")
OUTBOX_OLDEST = Gauge("carto_outbox_oldest_pending_seconds", "Age of the oldest undelivered.")
POOL_IN_USE = Gauge("carto_db_pool_in_use", "Connections checked out, by pool.", ["pool"])
POOL_SIZE = Gauge("carto_db_pool_size", "Connections open, by pool.", ["pool"])
REPLICA_LAG = Gauge("carto_replica_lag_seconds", "Read replica lag (-1: none or unknown).")

OUTBOX_SQL = """
SELECT channel, status, count(*) AS n,
       extract(epoch FROM now() - min(created_at)) AS age
FROM notification_outbox GROUP BY channel, status
"""
UNDELIVERED = ("pending", "sending", "failed")


_STATS: HttpStats | None = None


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
        global _STATS
        if _STATS is None:  # one per process, whatever the number of apps made
            _STATS = HttpStats()
            REGISTRY.register(_STATS)
        app.add_middleware(MetricsMiddleware, stats=_STATS)
