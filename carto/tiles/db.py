"""How the tile server talks to PostGIS: one round trip per statement.

A request through the app's SQLAlchemy session costs four round trips (pool ping,
BEGIN, the statement, ROLLBACK); on a busy 2-core machine each one is a context
switch, and they cost more than a small tile. The tile routes therefore use their
own asyncpg pool (statements prepared once per connection, autocommit, `jit = off`
since PostGIS cost estimates trigger JIT compilation for nothing), opened on first
use and closed by the app's lifespan. When the app runs on a borrowed session
(the test harness sets no sessionmaker), the routes use that session instead, so
tests see their own uncommitted rows.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import asyncpg
from fastapi import Request
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from carto.db import libpq_url
from carto.deps import SessionDep
from carto.scaling.routing import reads_from_replica

_PARAM = re.compile(r"(?<![:\w]):(\w+)")


@lru_cache(maxsize=512)
def positional(statement: str) -> tuple[str, tuple[str, ...]]:
    """`:name` parameters rewritten as asyncpg's `$n` (casts like `::text` untouched)."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _PARAM.sub(number, statement), tuple(names)


class TileDB:
    """The calls the tile services need; rows are mappings (`row["tile"]`)."""

    shared = False  # True: a served process, where in-process memos are safe

    async def row(self, statement: str, params: Mapping[str, Any]) -> Mapping[str, Any] | None:
        raise NotImplementedError

    async def rows(self, statement: str, params: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
        raise NotImplementedError

    async def execute(self, statement: str, params: Mapping[str, Any]) -> None:
        raise NotImplementedError

    async def write_row(
        self, statement: str, params: Mapping[str, Any]
    ) -> Mapping[str, Any] | None:
        """A statement that writes (the cache store): on the primary, whoever reads."""
        return await self.row(statement, params)

    async def commit(self) -> None:
        """End the unit of work after a write (the pool runs in autocommit)."""


class SessionTileDB(TileDB):
    def __init__(self, session: AsyncSession):
        self.session = session

    async def row(self, statement: str, params: Mapping[str, Any]) -> Mapping[str, Any] | None:
        found = (await self.session.execute(text(statement), dict(params))).first()
        return None if found is None else dict(found._mapping)

    async def rows(self, statement: str, params: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
        result = await self.session.execute(text(statement), dict(params))
        return [dict(r._mapping) for r in result]

    async def execute(self, statement: str, params: Mapping[str, Any]) -> None:
        await self.session.execute(text(statement), dict(params))

    async def commit(self) -> None:
        await self.session.commit()


class PoolTileDB(TileDB):
    shared = True

    def __init__(self, pool: asyncpg.Pool):
        self.pool = pool

    async def row(self, statement: str, params: Mapping[str, Any]) -> Mapping[str, Any] | None:
        sql, names = positional(statement)
        async with self.pool.acquire() as conn:
            return await conn.fetchrow(sql, *(params[n] for n in names))  # type: ignore[no-any-return]

    async def rows(self, statement: str, params: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
        sql, names = positional(statement)
        async with self.pool.acquire() as conn:
            return await conn.fetch(sql, *(params[n] for n in names))  # type: ignore[no-any-return]

    async def execute(self, statement: str, params: Mapping[str, Any]) -> None:
        sql, names = positional(statement)
        async with self.pool.acquire() as conn:
            await conn.execute(sql, *(params[n] for n in names))


class SplitTileDB(PoolTileDB):
    """Reads (cache lookups included) on one pool, writes (the cache store, the colour
    scales) on another: reads as the reader role, which may write nothing, writes as
    the app role."""

    def __init__(self, pool: asyncpg.Pool, writer: asyncpg.Pool):
        super().__init__(pool)
        self.writer = writer

    async def write_row(
        self, statement: str, params: Mapping[str, Any]
    ) -> Mapping[str, Any] | None:
        sql, names = positional(statement)
        async with self.writer.acquire() as conn:
            return await conn.fetchrow(sql, *(params[n] for n in names))  # type: ignore[no-any-return]

    async def execute(self, statement: str, params: Mapping[str, Any]) -> None:
        sql, names = positional(statement)
        async with self.writer.acquire() as conn:
            await conn.execute(sql, *(params[n] for n in names))


class ReplicaTileDB(SplitTileDB):
    """Reads (cache lookups included) on the read replica, writes on the primary.

    `tiles.cache_put` refuses a tile rendered from a snapshot that missed the layer's last
    write. A standby's `pg_current_snapshot()` lists no running transactions (it keeps
    them apart), so the store gets the conservative `xmin:xmin:` snapshot instead: every
    transaction from the oldest one running on is taken as unseen. Never a stale tile;
    at worst a tile is not stored while a write is in flight.
    """

    async def write_row(
        self, statement: str, params: Mapping[str, Any]
    ) -> Mapping[str, Any] | None:
        if "snapshot" in params:
            xmin = str(params["snapshot"]).split(":", 1)[0]
            params = {**params, "snapshot": f"{xmin}:{xmin}:"}
        return await super().write_row(statement, params)


# Generic plans: a tile statement's custom plan costs 0.15-0.25 ms to make, more than a
# sparse tile takes to run, and PostgreSQL keeps making them (the generic plan's estimate
# for `&&` on an unknown box looks worse); the plan is the same GiST scan either way
# (tests/tiles/test_plans.py checks each statement's generic plan).
POOL_SETTINGS = {
    "application_name": "carto-tiles",
    "jit": "off",
    "plan_cache_mode": "force_generic_plan",
    "max_parallel_workers_per_gather": "0",  # starting a worker costs more than a tile
}


async def _keep_session(conn: asyncpg.Connection) -> None:
    """No reset query on release: tile statements leave no session state (no SET, LISTEN
    or session lock), and asyncpg's default reset is one more round trip per statement
    (asyncpg still rolls back a transaction left open)."""


async def _pool(
    state: Any, name: str = "tile_pool", engine: str = "engine", size: int | None = None
) -> asyncpg.Pool:
    pool = getattr(state, name, None)
    if pool is not None:
        return pool
    lock = getattr(state, "tile_pool_lock", None)
    if lock is None:
        lock = state.tile_pool_lock = asyncio.Lock()
    async with lock:
        pool = getattr(state, name, None)
        if pool is None:
            source = getattr(state, engine, None) or state.engine
            url = source.url.render_as_string(hide_password=False)
            pool = await asyncpg.create_pool(
                libpq_url(url),
                min_size=1,
                max_size=max(2, size or state.settings.db_pool_size),
                server_settings=POOL_SETTINGS,
                reset=_keep_session,
            )
            setattr(state, name, pool)
    return pool


async def pooled_tile_db(state: Any, conn: HTTPConnection) -> TileDB:
    """The pools of a served app (`state`: the app's state): reads as the reader role,
    or on the replica when `conn` may read from it, writes as the app role."""
    writer = await _pool(state, size=state.settings.reader_pool_size)
    if reads_from_replica(conn):  # CARTO_READ_DATABASE_URL: carto.scaling.routing
        return ReplicaTileDB(await _pool(state, "tile_read_pool", "read_engine"), writer)
    return SplitTileDB(await _pool(state, "tile_public_pool", "reader_engine"), writer)


async def get_tile_db(request: Request, session: SessionDep) -> TileDB:
    """The pools in a served app; the request's session when the app borrows one (tests)."""
    if getattr(request.app.state, "sessionmaker", None) is None:
        return SessionTileDB(session)
    return await pooled_tile_db(request.app.state, request)


async def close_tile_pool(app: Any) -> None:
    """Close the tile pool, if one was opened (the app's lifespan calls this)."""
    for name in ("tile_pool", "tile_public_pool", "tile_read_pool"):
        pool = getattr(app.state, name, None)
        if pool is not None:
            setattr(app.state, name, None)
            await pool.close()
