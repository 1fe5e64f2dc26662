"""The shared hot-tile cache (table `tiles.tile_cache`), seen from Python.

Writers need not call anything: triggers on the feature tables delete the
cached tiles a write touches. `invalidate_point` is for writes the triggers do
not see (a layer fed from elsewhere); `prune_cache` bounds the table's size.
"""

from __future__ import annotations

from morecantile import Tile
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from carto.tiles.layers import get_layer

INVALIDATE_POINT = """
    SELECT tiles.touch_layer(:layer), tiles.invalidate_box(
        :layer, ST_X(p), ST_Y(p), ST_X(p), ST_Y(p), :maxzoom) AS deleted
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
