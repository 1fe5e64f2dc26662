"""`carto worker`'s own `/metrics`: its outbox figures (deliveries and failures by
channel, queue depth, oldest pending age) and its job turns and durations.

A separate process has its own counters, which the app's scrape cannot see: the worker
serves them on CARTO_WORKER_METRICS_PORT (loopback by default), behind the same bearer
token as the app's (CARTO_METRICS_TOKEN; without it, no endpoint).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from carto.error_handlers import register_error_handlers
from carto.ops.metrics import add_metrics_route
from carto.settings import Settings

log = logging.getLogger("carto.worker")


def worker_metrics_app(settings: Settings, engine: AsyncEngine) -> FastAPI:
    """A bare app with only `/metrics`, reading the outbox through the worker's engine."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state.engine = engine
    register_error_handlers(app)
    add_metrics_route(app, settings)
    return app


async def serve_worker_metrics(
    settings: Settings, engine: AsyncEngine
) -> Callable[[], Awaitable[None]] | None:
    """Start serving when a port and the token are set; returns the coroutine that stops it."""
    if settings.worker_metrics_port is None:
        return None
    if not settings.metrics_token:
        log.warning("CARTO_WORKER_METRICS_PORT sans CARTO_METRICS_TOKEN : pas de /metrics")
        return None
    import uvicorn

    config = uvicorn.Config(
        worker_metrics_app(settings, engine), host=settings.worker_metrics_host,
        port=settings.worker_metrics_port, log_level="warning", lifespan="off",
    )  # fmt: skip
    server = uvicorn.Server(config)
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]  # the worker's
    task = asyncio.create_task(server.serve(), name="carto-worker-metrics")
    log.info("métriques du worker sur %s:%s/metrics", config.host, config.port)

    async def stop() -> None:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(task, timeout=5)

    return stop
