"""Where the outbox worker runs: `carto worker` (its own process) or inside the app.

Also carries the hourly housekeeping that retention needs (original photos after
N days, idle rate-limit counters, expired idempotency keys), since the worker is the
one long-lived loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from carto.db import make_async_engine, make_sessionmaker
from carto.notifications.senders import build_senders
from carto.notifications.worker import OutboxWorker, Periodic
from carto.settings import Settings

log = logging.getLogger("carto.notifications")


def make_worker(engine: AsyncEngine, settings: Settings) -> OutboxWorker:
    return OutboxWorker(
        engine,
        build_senders(settings, engine),
        max_attempts=settings.notifications_max_attempts,
        backoff_s=settings.notifications_backoff_s,
        lease_s=settings.notifications_lease_s,
    )


def housekeeping(settings: Settings) -> list[Periodic]:
    """Retention jobs: delete photo originals past their period, forget idle counters
    and idempotency keys past their 24 hours."""
    from carto.accounts.privacy import load_providers
    from carto.accounts.throttle import purge as purge_login_throttle
    from carto.idempotency import purge_expired
    from carto.media.service import purge_originals
    from carto.ratelimit import purge_counters

    async def _purge(engine: AsyncEngine) -> None:
        async with make_sessionmaker(engine)() as session:
            photos = await purge_originals(
                session=session, older_than_days=settings.media_original_retention_days
            )
            await purge_counters(session=session)
            await purge_expired(session=session)
            await purge_login_throttle(session=session)
            cleared = {}
            for name, provider in load_providers().items():
                if provider.retention is not None:
                    cleared[name] = await provider.retention(session, settings)
            await session.commit()
        if photos:
            log.info("rétention : %s photos originales supprimées", photos)
        if any(cleared.values()):
            log.info("rétention : données personnelles effacées %s", cleared)

    return [_purge]


def upkeep() -> list[Periodic]:
    """Short, frequent jobs of the loop: fold the tile writes' heat deltas (writers append
    them instead of updating shared counters; see carto.tiles.cache.fold_pending)."""
    from carto.tiles.cache import fold_pending

    async def _fold(engine: AsyncEngine) -> None:
        await fold_pending(engine)

    return [_fold]


def start_background_worker(
    engine: AsyncEngine, settings: Settings
) -> Callable[[], Awaitable[None]]:
    """Start the worker as a task of the running loop; returns the coroutine that stops it."""
    stop = asyncio.Event()
    worker = make_worker(engine, settings)
    task = asyncio.create_task(
        worker.run(
            stop,
            poll_s=settings.notifications_poll_s,
            periodic=housekeeping(settings),
            ticks=upkeep(),
        ),  # fmt: skip
        name="carto-notifications-worker",
    )
    log.info("worker de notifications démarré dans le serveur")

    async def _stop() -> None:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(task, timeout=15)

    return _stop


async def run_standalone(settings: Settings, url: str, *, once: bool = False) -> int:
    """`carto worker`: own engine, stop on SIGINT/SIGTERM; with `once`, drain and exit."""
    engine = make_async_engine(url, pool_size=2, max_overflow=2)
    try:
        worker = make_worker(engine, settings)
        if once:
            return await worker.drain()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        log.info("worker de notifications en marche (Ctrl-C pour arrêter)")
        await worker.run(
            stop, poll_s=settings.notifications_poll_s, periodic=housekeeping(settings),
            ticks=upkeep(),
        )  # fmt: skip
        return 0
    finally:
        await engine.dispose()
