"""The worker's wiring: the periodic jobs of a Carto process, on one scheduler
(carto.scheduler), run by `carto worker` (its own process) or inside the app.

Jobs: outbox delivery (as fast as rows are due), the tile writes' heat fold (every
second), and hourly retention and purges (photo originals, idle rate-limit counters,
expired idempotency keys and login-throttle rows, the features' personal data).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from carto.accounts.privacy import PROVIDERS
from carto.accounts.throttle import purge as purge_login_throttle
from carto.db import make_async_engine, make_sessionmaker
from carto.idempotency import purge_expired
from carto.media.service import purge_originals
from carto.notifications.senders import build_senders
from carto.notifications.worker import OutboxWorker
from carto.ratelimit import purge_counters
from carto.scheduler import Job, Scheduler
from carto.settings import Settings
from carto.tiles.cache import fold_pending
from carto.wiring import register_variations

log = logging.getLogger("carto.worker")

FOLD_EVERY_S = 1.0
RETENTION_EVERY_S = 3600.0


def make_worker(engine: AsyncEngine, settings: Settings) -> OutboxWorker:
    """The outbox worker with the registered senders."""
    register_variations()
    return OutboxWorker(
        engine,
        build_senders(settings, engine),
        max_attempts=settings.notifications_max_attempts,
        backoff_s=settings.notifications_backoff_s,
        lease_s=settings.notifications_lease_s,
    )


def retention(settings: Settings) -> Callable[[AsyncEngine], Awaitable[None]]:
    """Delete photo originals past their period, forget idle counters, idempotency keys
    and login-throttle rows past their time, and run each feature's retention."""

    async def _purge(engine: AsyncEngine) -> None:
        async with make_sessionmaker(engine)() as session:
            photos = await purge_originals(
                session=session, older_than_days=settings.media_original_retention_days
            )
            await purge_counters(session=session)
            await purge_expired(session=session)
            await purge_login_throttle(session=session)
            cleared = {}
            for name, provider in PROVIDERS.items():
                if provider.retention is not None:
                    cleared[name] = await provider.retention(session, settings)
            await session.commit()
        if photos:
            log.info("rétention : %s photos originales supprimées", photos)
        if any(cleared.values()):
            log.info("rétention : données personnelles effacées %s", cleared)

    return _purge


async def _fold(engine: AsyncEngine) -> None:
    """Writers append heat deltas instead of updating shared counters (tiles.cache)."""
    await fold_pending(engine)


def jobs(engine: AsyncEngine, settings: Settings) -> list[Job]:
    """Every periodic job of a process, in the order one turn runs them."""
    outbox = make_worker(engine, settings)
    return [
        Job("outbox", settings.notifications_poll_s, outbox.deliver_due),
        Job("tile-fold", FOLD_EVERY_S, _fold),
        Job("retention", RETENTION_EVERY_S, retention(settings)),
    ]


def start_background_worker(
    engine: AsyncEngine, settings: Settings
) -> Callable[[], Awaitable[None]]:
    """Start the scheduler as a task of the running loop; returns the coroutine that stops it."""
    stop = asyncio.Event()
    task = asyncio.create_task(
        Scheduler(engine, jobs(engine, settings)).run(stop), name="carto-worker"
    )
    log.info("worker (notifications, tuiles, rétention) démarré dans le serveur")

    async def _stop() -> None:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(task, timeout=15)

    return _stop


async def run_standalone(settings: Settings, url: str, *, once: bool = False) -> int:
    """`carto worker`: own engine, stop on SIGINT/SIGTERM; with `once`, drain and exit."""
    engine = make_async_engine(url, pool_size=2, max_overflow=2)
    try:
        if once:
            return await make_worker(engine, settings).drain()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        log.info("worker de notifications en marche (Ctrl-C pour arrêter)")
        from carto.ops.worker_metrics import serve_worker_metrics

        stop_metrics = await serve_worker_metrics(settings, engine)
        try:
            await Scheduler(engine, jobs(engine, settings)).run(stop)
        finally:
            if stop_metrics is not None:
                await stop_metrics()
        return 0
    finally:
        await engine.dispose()
