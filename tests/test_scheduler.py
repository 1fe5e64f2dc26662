"""carto.scheduler: the loop that runs the worker's jobs (outbox, tile fold, retention)."""

from __future__ import annotations

import asyncio
from typing import Any

from carto.scheduler import Job, Scheduler

ENGINE: Any = object()  # the jobs below never touch it


async def test_a_job_with_work_runs_again_at_once_and_an_idle_one_waits_its_turn():
    backlog = [3]
    runs = {"outbox": 0, "hourly": 0}

    async def outbox(engine: Any) -> int:
        runs["outbox"] += 1
        backlog[0] = max(0, backlog[0] - 1)
        return backlog[0]

    async def hourly(engine: Any) -> None:
        runs["hourly"] += 1

    scheduler = Scheduler(ENGINE, [Job("outbox", 60, outbox), Job("hourly", 3600, hourly)])
    due: dict[str, float] = {}
    assert await scheduler.run_due(due, now=0.0) is True  # 2 rows left: go on
    assert await scheduler.run_due(due, now=0.1) is True  # 1 left
    assert await scheduler.run_due(due, now=0.2) is False  # drained: wait 60 s
    assert await scheduler.run_due(due, now=30.0) is False  # not due yet
    assert runs == {"outbox": 3, "hourly": 1}
    assert due == {"outbox": 60.2, "hourly": 3600.0}


async def test_a_failing_job_is_logged_and_the_others_still_run(caplog):
    ran: list[str] = []

    async def broken(engine: Any) -> None:
        raise RuntimeError("base injoignable")

    async def fold(engine: Any) -> None:
        ran.append("fold")

    scheduler = Scheduler(ENGINE, [Job("broken", 1, broken), Job("fold", 1, fold)])
    due: dict[str, float] = {}
    assert await scheduler.run_due(due, now=0.0) is False
    assert ran == ["fold"] and due["broken"] == 1.0  # retried at its next turn
    assert "broken" in caplog.text and "base injoignable" in caplog.text


async def test_run_stops_when_asked_and_sleeps_between_turns():
    calls: list[float] = []
    loop = asyncio.get_running_loop()

    async def tick(engine: Any) -> None:
        calls.append(loop.time())

    stop = asyncio.Event()
    task = asyncio.create_task(Scheduler(ENGINE, [Job("tick", 0.05, tick)]).run(stop))
    await asyncio.sleep(0.18)
    stop.set()
    await asyncio.wait_for(task, timeout=1)
    assert 3 <= len(calls) <= 5  # every 50 ms, not in a busy loop
    assert all(b - a >= 0.045 for a, b in zip(calls, calls[1:], strict=False))
