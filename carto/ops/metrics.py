"""`/metrics` for Prometheus: the request figures of `http_stats`, the counters of
`carto.metrics` (routing, outbox deliveries, job runs), and gauges read at scrape time
(outbox, pools, replica lag).

Not public: `/metrics` answers only `Authorization: Bearer $CARTO_METRICS_TOKEN`
(otherwise the usual 404, also when the token is unset: then no middleware either).
With `carto serve --workers N` a scrape, whichever process answers it, sums every
process's figures (`carto.ops.multiproc`).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import text

from carto.errors import NotFound
from carto.ops import multiproc
from carto.ops.http_stats import HttpStats, MetricsMiddleware
from carto.settings import Settings

OUTBOX_SQL = """
SELECT channel, status, count(*) AS n,
       extract(epoch FROM now() - min(created_at)) AS age
FROM notification_outbox GROUP BY channel, status
"""
UNDELIVERED = ("pending", "sending", "failed")


_STATS: HttpStats | None = None


class _Families(Collector):
    """Metric families computed before the scrape (the gauges read from the database)."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self.families = list(families)

    def collect(self) -> Iterator[Metric]:
        yield from self.families


async def read_gauges(state: Any) -> list[Metric]:
    """The values only the database and the pools know, read at scrape time: the same in
    every process, so computed by the one that answers rather than summed."""
    outbox = GaugeMetricFamily(
        "carto_outbox_messages", "Notification outbox rows.", labels=["channel", "status"]
    )
    async with state.engine.connect() as conn:
        rows = (await conn.execute(text(OUTBOX_SQL))).all()
    pending, oldest = 0, 0.0
    for row in rows:
        outbox.add_metric([row.channel, row.status], row.n)
        if row.status in UNDELIVERED:
            pending += row.n
            oldest = max(oldest, float(row.age or 0))
    in_use = GaugeMetricFamily(
        "carto_db_pool_in_use", "Connections checked out, by pool.", labels=["pool"]
    )
    size = GaugeMetricFamily("carto_db_pool_size", "Connections open, by pool.", labels=["pool"])
    for name in ("engine", "reader_engine", "read_engine"):
        engine = getattr(state, name, None)
        if engine is not None:
            pool = engine.pool
            in_use.add_metric([name], pool.checkedout())
            size.add_metric([name], pool.checkedout() + pool.checkedin())
    for name in ("tile_pool", "tile_public_pool", "tile_read_pool"):
        apool = getattr(state, name, None)
        if apool is not None:
            size.add_metric([name], apool.get_size())
            in_use.add_metric([name], apool.get_size() - apool.get_idle_size())
    lag = getattr(getattr(state, "replica", None), "lag_s", None)
    return [
        outbox,
        GaugeMetricFamily("carto_outbox_pending", "Notifications not delivered yet.", pending),
        GaugeMetricFamily(
            "carto_outbox_oldest_pending_seconds", "Age of the oldest undelivered.", oldest
        ),
        in_use,
        size,
        GaugeMetricFamily(
            "carto_replica_lag_seconds",
            "Read replica lag (-1: none or unknown).",
            -1 if lag is None else lag,
        ),
    ]


async def render(state: Any, stats: HttpStats | None) -> bytes:
    """The exposition text: this process's registry, or every process's in multiprocess
    mode, then the gauges read now."""
    gauges = CollectorRegistry(auto_describe=False)
    gauges.register(_Families(await read_gauges(state)))
    registry = multiproc.registry(stats) if multiproc.enabled() else REGISTRY
    return generate_latest(registry) + generate_latest(gauges)


def add_metrics_route(app: FastAPI, settings: Settings, stats: HttpStats | None = None) -> bool:
    """`/metrics` on `app` (a 404 unless the bearer token matches); True when it can answer."""
    token = settings.metrics_token
    expected = f"Bearer {token}".encode() if token else None

    async def metrics(request: Request) -> Response:
        given = request.headers.get("authorization", "").encode()
        if expected is None or not hmac.compare_digest(given, expected):
            raise NotFound("Page introuvable.")
        return Response(await render(request.app.state, stats), media_type=CONTENT_TYPE_LATEST)

    app.add_api_route("/metrics", metrics, include_in_schema=False)
    return expected is not None


def install_metrics(app: FastAPI, settings: Settings) -> None:
    """`/metrics` (a 404 unless `Authorization: Bearer $CARTO_METRICS_TOKEN`) and, when
    the token is set, the middleware (unset: no cost at all)."""
    global _STATS
    if not settings.metrics_token:
        add_metrics_route(app, settings)
        return
    if _STATS is None:  # one per process, whatever the number of apps made
        _STATS = HttpStats()
        if multiproc.enabled():
            multiproc.start_snapshots(_STATS)  # summed by whichever process is scraped
        else:
            REGISTRY.register(_STATS)
    add_metrics_route(app, settings, _STATS)
    app.add_middleware(MetricsMiddleware, stats=_STATS)
