"""The read replica: its engine, its lag monitor, and a pool wrapper for tipg.

`CARTO_READ_DATABASE_URL` names a PostgreSQL streaming replica (hot standby). The
app opens a second engine on it and measures its lag every `CARTO_READ_CHECK_S`
seconds, in the background, so that requests never wait for the measurement:

- replayed everything it received: lag 0;
- WAL received but not replayed yet: lag = now - the commit time of the last
  replayed transaction (`pg_last_xact_replay_timestamp()`), an upper bound of how
  stale a read can be (clocks of both servers in sync: NTP);
- unreachable, or not a standby any more: unusable.

Above `CARTO_READ_MAX_LAG_S` (or unusable) every read goes to the primary until
the replica catches up. A replica that lost its connection to the primary and
reports lag 0 is not detected; monitor `pg_stat_replication` on the primary.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from carto.db import make_async_engine, make_sessionmaker
from carto.settings import Settings

log = logging.getLogger("carto.replica")

LAG_SQL = text(
    """SELECT CASE
         WHEN NOT pg_is_in_recovery() THEN NULL
         WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0.0
         ELSE extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8
       END AS lag, pg_is_in_recovery() AS standby"""
)


class ReplicaMonitor:
    """The replica's lag as last measured; `usable` says whether reads may go there."""

    def __init__(self, engine: AsyncEngine, *, max_lag_s: float, interval_s: float) -> None:
        self.engine = engine
        self.max_lag_s = max_lag_s
        self.interval_s = interval_s
        self.lag_s: float | None = None  # None: unknown, unreachable or not a standby
        self.checked_at = 0.0
        self._task: asyncio.Task[None] | None = None
        self._told_not_standby = False

    @property
    def usable(self) -> bool:
        return self.lag_s is not None and self.lag_s <= self.max_lag_s

    async def check(self) -> float | None:
        """Measure the lag now (never raises: a failure makes the replica unusable)."""
        try:
            async with asyncio.timeout(max(5.0, 2 * self.interval_s)):
                async with self.engine.connect() as conn:
                    row = (await conn.execute(LAG_SQL)).one()
            lag = None if row.lag is None else max(0.0, float(row.lag))
            if not row.standby and not self._told_not_standby:
                log.warning("CARTO_READ_DATABASE_URL is not a standby: reads stay on the primary")
                self._told_not_standby = True
        except Exception as exc:  # noqa: BLE001 - whatever the failure, read from the primary
            log.warning("read replica unavailable, reading from the primary: %r", exc)
            lag = None
        was_usable = self.usable
        self.lag_s, self.checked_at = lag, time.monotonic()
        if was_usable != self.usable:
            log.warning("read replica %s (lag %s s)", "in use" if self.usable else "left", lag)
        return lag

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            await self.check()

    async def start(self) -> None:
        await self.check()
        self._task = asyncio.create_task(self._run(), name="carto-replica-monitor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None


def read_your_writes_window(settings: Settings) -> float:
    """How long a writer reads from the primary: the longest a usable replica may lag."""
    return settings.read_max_lag_s + settings.read_check_s + 1.0


async def open_read_side(app: FastAPI, settings: Settings) -> None:
    """Read engine, sessionmaker and lag monitor on app.state (nothing without a replica)."""
    app.state.read_engine = app.state.read_sessionmaker = app.state.replica = None
    if not settings.read_database_url:
        return
    engine = make_async_engine(
        settings.read_database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    monitor = ReplicaMonitor(
        engine, max_lag_s=settings.read_max_lag_s, interval_s=settings.read_check_s
    )
    app.state.read_engine = engine
    app.state.read_sessionmaker = make_sessionmaker(engine)
    app.state.replica = monitor
    await monitor.start()


async def close_read_side(app: FastAPI) -> None:
    monitor: ReplicaMonitor | None = getattr(app.state, "replica", None)
    if monitor is not None:
        await monitor.stop()
    engine: AsyncEngine | None = getattr(app.state, "read_engine", None)
    if engine is not None:
        await engine.dispose()
    app.state.read_engine = app.state.read_sessionmaker = app.state.replica = None


class ReplicaAwarePool:
    """What tipg sees as `app.state.pool`: connections from the replica while it is usable,
    from the primary otherwise (OGC reads are public: only the lag rule applies)."""

    def __init__(self, primary: Any, replica: Any, monitor: ReplicaMonitor) -> None:
        self.primary = primary
        self.replica = replica
        self.monitor = monitor

    def acquire(self, **kwargs: Any) -> Any:
        pool = self.replica if self.monitor.usable else self.primary
        return pool.acquire(**kwargs)

    async def close(self) -> None:
        await asyncio.gather(self.primary.close(), self.replica.close())
