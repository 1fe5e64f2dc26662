"""The one long-lived loop of a Carto process: it runs registered periodic jobs (outbox
delivery, tile fold, retention, purges), each at its own interval.

It knows no feature: the wiring (carto.worker) registers the jobs, so that the outbox
imports nothing of tiles, media or accounts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from carto.metrics import JOB_RUNS, JOB_SECONDS

log = logging.getLogger("carto.scheduler")

# A job gets the engine and says whether it found work (True: run it again at once).
JobFn = Callable[[AsyncEngine], Awaitable[bool | int | None]]


@dataclass(frozen=True)
class Job:
    """`run` every `every_s` seconds; again at once while it reports work (a backlog)."""

    name: str
    every_s: float
    run: JobFn


class Scheduler:
    """Runs `jobs` on `engine` until stopped. A failing job is logged and retried at its
    next turn; the others keep running (a database outage is waited out)."""

    def __init__(self, engine: AsyncEngine, jobs: Sequence[Job]) -> None:
        self.engine = engine
        self.jobs = tuple(jobs)

    async def run_due(self, due: dict[str, float], now: float) -> bool:
        """Run the jobs whose time has come; True when one of them found work."""
        busy = False
        for job in self.jobs:
            if due.get(job.name, now) > now:
                continue
            started = time.perf_counter()
            try:
                found = bool(await job.run(self.engine))
                result = "work" if found else "idle"
            except Exception:
                log.exception("tâche périodique %s : erreur, nouvel essai bientôt", job.name)
                found, result = False, "error"
            JOB_SECONDS.labels(job.name).observe(time.perf_counter() - started)
            JOB_RUNS.labels(job.name, result).inc()
            busy = busy or found
            due[job.name] = now if found else now + job.every_s
        return busy

    async def run(self, stop: asyncio.Event) -> None:
        """Loop until `stop` is set, sleeping until the next job is due when idle."""
        loop = asyncio.get_running_loop()
        due: dict[str, float] = {}
        while not stop.is_set() and self.jobs:
            busy = await self.run_due(due, loop.time())
            if busy:
                await asyncio.sleep(0)  # let requests in between two batches
                continue
            wait = max(0.0, min(due.values(), default=loop.time()) - loop.time())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=wait)
