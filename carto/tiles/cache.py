"""The shared hot-tile cache (table `tiles.tile_cache`), seen from Python.

Writers need not call anything: triggers on the feature tables delete the
cached tiles a write touches (and log the write, so that a tile rendered before it
is not stored after it; see carto/tiles/sql/cache.sql). `invalidate_point` is for writes the
triggers do not see (a layer fed from elsewhere); `prune_cache` bounds the table's
size; `fold_pending` folds the writes' heat deltas into the grid (the worker loop).
"""

from __future__ import annotations

from morecantile import Tile
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from carto.tiles.layers import get_layer

INVALIDATE_POINT = """
    SELECT tiles.note_write(:layer, ST_X(p), ST_Y(p), ST_X(p), ST_Y(p), :maxzoom) AS deleted
    FROM (SELECT ST_Transform(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 3857) AS p) s
"""


async def invalidate_point(*, session: AsyncSession, layer: str, lon: float, lat: float) -> int:
    """Delete the cached tiles of `layer` that show a feature at (lon, lat); how many."""
    maxzoom = get_layer(layer).maxzoom
    params = {"layer": layer, "lon": lon, "lat": lat, "maxzoom": maxzoom}
    row = (await session.execute(text(INVALIDATE_POINT), params)).one()
    return int(row.deleted)


async def cached_tiles(*, session: AsyncSession, layer: str) -> set[Tile]:
    """The tiles of `layer` in the cache (any filter variant)."""
    rows = await session.execute(
        text("SELECT DISTINCT x, y, z FROM tiles.tile_cache WHERE layer = :layer"),
        {"layer": layer},
    )
    return {Tile(r.x, r.y, r.z) for r in rows}


async def prune_cache(*, session: AsyncSession, keep: int) -> int:
    """Keep the `keep` most recently stored tiles; how many were dropped."""
    result = await session.execute(
        text(
            """DELETE FROM tiles.tile_cache c USING (
                   SELECT layer, z, x, y, variant FROM tiles.tile_cache
                   ORDER BY created_at DESC OFFSET :keep) old
               WHERE (c.layer, c.z, c.x, c.y, c.variant)
                   = (old.layer, old.z, old.x, old.y, old.variant)"""
        ),
        {"keep": keep},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def fold_pending(engine: AsyncEngine) -> int:
    """Fold the heat deltas writers appended into the grid, prune the write log.

    Readers sum grid and deltas, so this only keeps reads short; one process folds at a
    time (others return 0 at once) and writers never wait for it.
    """
    async with engine.begin() as conn:
        return int((await conn.execute(text("SELECT tiles.fold_heat()"))).scalar_one())
