"""The app's pool keeps every connection it opened: none is closed when it comes back, so
a burst of requests does not make the next one reconnect (backend start, statements
prepared again)."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from carto.db import make_async_engine


async def _pids(engine, n: int) -> set[int]:
    """The backend pids of `n` connections held at once."""
    conns = [await engine.connect() for _ in range(n)]
    try:
        return {int((await c.execute(text("SELECT pg_backend_pid()"))).scalar_one()) for c in conns}
    finally:
        await asyncio.gather(*(c.close() for c in conns))


async def test_overflow_connections_are_kept_not_reopened(demo_db):
    engine = make_async_engine(demo_db, pool_size=2, max_overflow=2)
    try:
        first = await _pids(engine, 4)
        assert len(first) == 4
        assert await _pids(engine, 4) == first  # the same four backends, none reopened
        assert engine.pool.checkedin() == 4
    finally:
        await engine.dispose()


async def test_the_pool_never_exceeds_size_plus_overflow(demo_db):
    engine = make_async_engine(demo_db, pool_size=1, max_overflow=1)
    try:
        held = [await engine.connect() for _ in range(2)]
        waiting = asyncio.ensure_future(engine.connect())
        await asyncio.sleep(0.2)
        assert not waiting.done()  # a third connection waits for one to come back
        await held[0].close()
        third = await asyncio.wait_for(waiting, 5)
        await asyncio.gather(third.close(), held[1].close())
    finally:
        await engine.dispose()
