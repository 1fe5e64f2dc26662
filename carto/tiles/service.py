"""Vector tiles: cache lookup, one prepared statement per tile, cache store.

Point layers are answered with clusters (one point per heat cell, with `count`)
under the layer's `cluster_below` zoom, and with individual features above it,
unless a tile holds more than `MAX_POINTS_PER_TILE` features: then clusters too.
So no tile grows past a few hundred kilobytes, whatever the data.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

from carto.tiles import sql
from carto.tiles.db import TileDB
from carto.tiles.filters import TileFilters
from carto.tiles.grid import HEAT_CELLS_LOG2, HEAT_MAX_LEVEL, CellWindow, TileRequest
from carto.tiles.layers import TileLayer
from carto.tiles.stored import stored_tile


@dataclass(frozen=True)
class TileBody:
    """A rendered (or cached) tile: empty `body` means an empty tile."""

    body: bytes
    etag: str
    cached: bool
    mode: str  # "cache", "features", "clusters", "polygons"


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


async def _fetch(db: TileDB, statement: str, params: dict[str, Any]) -> tuple[Any, str]:
    row = await db.row(statement, params)
    assert row is not None
    return row["tile"], row["snapshot"]


def _cluster_window(tile: TileRequest) -> CellWindow:
    level = tile.z + HEAT_CELLS_LOG2
    shift = HEAT_CELLS_LOG2
    return CellWindow(level, tile.x << shift, tile.y << shift, 1 << shift, 0)


async def _clusters(
    db: TileDB, layer: TileLayer, tile: TileRequest, flt: TileFilters
) -> tuple[bytes, str]:
    window = _cluster_window(tile)
    params = sql.window_params(window, tile) | {"layer": layer.name}
    if flt.only_dims and window.level <= HEAT_MAX_LEVEL:
        cells, extra = sql.heat_cells_sql(flt, layer)
    else:
        conditions, extra = sql.view_conditions(layer, flt)
        cells = sql.raw_cells_sql(layer, conditions, None)
    body, snapshot = await _fetch(db, sql.cluster_tile_sql(layer, cells), params | extra)
    return bytes(body or b""), snapshot


async def render_tile(
    db: TileDB, layer: TileLayer, tile: TileRequest, flt: TileFilters
) -> tuple[bytes, str, str]:
    """(body, snapshot, mode) for a tile, straight from PostGIS."""
    params = sql.tile_params(tile) | {"layer": layer.name}
    if layer.kind == "polygon":
        conditions, extra = sql.polygon_conditions(layer, flt)
        statement = sql.polygon_tile_sql(layer, sql.band_for(tile.z), conditions)
        body, snapshot = await _fetch(db, statement, params | extra)
        return bytes(body or b""), snapshot, "polygons"
    if tile.z < layer.cluster_below:
        body, snapshot = await _clusters(db, layer, tile, flt)
        return body, snapshot, "clusters"
    if layer.stored_points and flt.only_dims:
        raw, snapshot = await stored_tile(db, layer, tile, flt)
    else:
        conditions, extra = sql.view_conditions(layer, flt)
        raw, snapshot = await _fetch(db, sql.point_tile_sql(layer, conditions), params | extra)
    if raw is None:  # too many features for one tile
        body, snapshot = await _clusters(db, layer, tile, flt)
        return body, snapshot, "clusters"
    return bytes(raw), snapshot, "features"


async def get_tile(
    *,
    db: TileDB,
    layer: TileLayer,
    tile: TileRequest,
    filters: TileFilters,
    use_cache: bool = True,
    cache_min_ms: float = 0.0,
) -> TileBody:
    """The tile from the shared cache, or rendered (and cached when it cost `cache_min_ms`)."""
    key = {"layer": layer.name, "variant": filters.key, **sql.tile_params(tile)}
    if use_cache:
        hit = await db.row(sql.CACHE_GET, key)
        if hit is not None:
            return TileBody(bytes(hit["body"]), hit["etag"], True, "cache")
    started = time.perf_counter()
    body, snapshot, mode = await render_tile(db, layer, tile, filters)
    elapsed_ms = (time.perf_counter() - started) * 1000
    etag = etag_of(body)
    if use_cache and elapsed_ms >= cache_min_ms:
        params = key | {"body": body, "etag": etag, "snapshot": snapshot}
        await db.write_row(sql.CACHE_PUT, params)
        await db.commit()
    return TileBody(body, etag, False, mode)
