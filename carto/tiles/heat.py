"""Heatmap tiles from the precomputed count grid (`tiles.heat_cell`), kept current on write.

A tile reads its (32 + 2 x margin)^2 cells with one index range per cell row,
whatever the number of points; filters the grid does not hold (a date range)
fall back to counting the view's points in the window. The colour scale of a
zoom level is the 99th percentile of its non-empty cells (per filter variant),
kept in `tiles.heat_stats` and recomputed when the layer changed and the value
is older than STATS_TTL; a served process keeps it SCALE_MEMO_S seconds (so two
workers may disagree for that long after a refresh). At the finest levels the
percentile reads millions of cells (0.4-1 s), so a served process answers with the
stale value and refreshes it in the background, once per key at a time: only a
level that never had a scale waits for it (the tile bench's production-like state
showed heatmap p95 at 0.1-1 s on z9-z13 when the refresh held the request).
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta

import numpy as np

from carto.tiles import render, sql
from carto.tiles.db import TileDB
from carto.tiles.filters import TileFilters
from carto.tiles.grid import CellWindow, TileRequest, cell_window
from carto.tiles.layers import TileLayer

STATS_TTL = timedelta(minutes=5)
SCALE_MEMO_S = 30.0  # a served process re-reads a zoom's scale at most this often

_scales: dict[tuple[str, str, int, bool], tuple[float, float]] = {}
_refreshing: dict[tuple[str, str, int, bool], asyncio.Task[float]] = {}
log = logging.getLogger(__name__)

STATS_GET = """
    SELECT s.p99, s.computed_at < now() - CAST(:ttl AS interval)
           AND s.computed_at < coalesce(l.changed_at, '-infinity') AS stale
    FROM tiles.heat_stats s LEFT JOIN tiles.layer_state l ON l.layer = s.layer
    WHERE s.layer = :layer AND s.variant = :variant AND s.level = :level
      AND s.weighted = :weighted
"""

STATS_PUT = """
    INSERT INTO tiles.heat_stats (layer, variant, level, weighted, p99)
    VALUES (:layer, :variant, :level, :weighted, :p99)
    ON CONFLICT (layer, variant, level, weighted)
    DO UPDATE SET p99 = EXCLUDED.p99, computed_at = now()
"""


def packed_cells_sql(cells_sql: str, value: str) -> str:
    """The window's cells as two arrays: offsets in the window (row-major) and values.

    One row instead of one per cell: 1,600 rows cost more to send, decode and copy
    into numpy than to compute; arrays travel in binary and convert in one call.
    """
    offset = """((c.cy - CAST(:cy0 AS integer))
                 * (CAST(:cx1 AS integer) - CAST(:cx0 AS integer) + 1)
                 + (c.cx - CAST(:cx0 AS integer)))::integer"""
    return f"""
        SELECT array_agg({offset}) AS offsets, array_agg(c.{value}::float8) AS vals
        FROM ({cells_sql}) c
    """


async def heat_window(
    *, db: TileDB, layer: TileLayer, tile: TileRequest, filters: TileFilters
) -> tuple[np.ndarray, CellWindow]:
    """The window's cell values (counts, or weight sums with `filters.weight`)."""
    window = cell_window(tile, margin=render.MARGIN)
    params = sql.window_params(window, tile) | {"layer": layer.name}
    if filters.only_dims:
        cells, extra = sql.heat_cells_sql(filters, layer)
    else:
        conditions, extra = sql.view_conditions(layer, filters)
        cells = sql.raw_cells_sql(layer, conditions, filters.weight)
    statement = packed_cells_sql(cells, "w" if filters.weight else "n")
    row = await db.row(statement, params | extra)
    side = window.n + 2 * window.margin
    grid = np.zeros(side * side)
    if row is not None and row["offsets"]:
        grid[np.array(row["offsets"], dtype=np.intp)] = np.array(row["vals"], dtype=float)
    return grid.reshape(side, side), window


def _percentile_sql(layer: TileLayer, filters: TileFilters) -> tuple[str, dict[str, object]]:
    value = "w" if filters.weight else "n"
    extra: dict[str, object]
    if filters.only_dims:
        cells, extra = sql.heat_cells_sql(filters, layer, windowed=False)
    else:
        conditions, extra = sql.view_conditions(layer, filters)
        cells = sql.raw_cells_sql(layer, conditions, filters.weight, windowed=False)
    statement = f"""
        SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY {value}) AS p99
        FROM ({cells}) c WHERE {value} > 0"""
    return statement, extra


async def zoom_scale(*, db: TileDB, layer: TileLayer, level: int, filters: TileFilters) -> float:
    """The zoom level's colour scale: stored, or computed now when missing; when stale,
    recomputed now in a borrowed session, in the background in a served process."""
    key = {
        "layer": layer.name,
        "variant": filters.key,
        "level": level,
        "weighted": filters.weight is not None,
    }
    memo_key = (layer.name, filters.key, level, filters.weight is not None)
    memo = _scales.get(memo_key) if db.shared else None
    if memo is not None and time.monotonic() - memo[0] < SCALE_MEMO_S:
        return memo[1]
    row = await db.row(STATS_GET, key | {"ttl": STATS_TTL})
    if row is not None and not row["stale"]:
        _scales[memo_key] = (time.monotonic(), float(row["p99"]))
        return float(row["p99"])
    if row is not None and db.shared:
        refresh_in_background(db, layer, filters, key, memo_key)
        return float(row["p99"])
    return await _store_scale(db, layer, filters, key)


async def _store_scale(
    db: TileDB, layer: TileLayer, filters: TileFilters, key: dict[str, object]
) -> float:
    statement, extra = _percentile_sql(layer, filters)
    found = await db.row(statement, {k: key[k] for k in ("layer", "level")} | extra)
    scale = float((found or {}).get("p99") or 0.0)
    await db.execute(STATS_PUT, key | {"p99": scale})
    await db.commit()
    return scale


def refresh_in_background(
    db: TileDB,
    layer: TileLayer,
    filters: TileFilters,
    key: dict[str, object],
    memo_key: tuple[str, str, int, bool],
) -> asyncio.Task[float]:
    """One refresh per key at a time in this process (the pools outlive the request)."""
    task = _refreshing.get(memo_key)
    if task is None:
        task = asyncio.create_task(_store_scale(db, layer, filters, key))
        _refreshing[memo_key] = task

        def done(t: asyncio.Task[float]) -> None:
            _refreshing.pop(memo_key, None)
            if t.cancelled():
                return
            if (exc := t.exception()) is not None:  # the stale value stays; next request retries
                log.warning("heat scale refresh failed for %s: %s", memo_key, exc)
            else:
                _scales[memo_key] = (time.monotonic(), t.result())

        task.add_done_callback(done)
    return task


async def heat_tile(
    *, db: TileDB, layer: TileLayer, tile: TileRequest, filters: TileFilters
) -> bytes:
    """The 256x256 PNG heatmap tile."""
    grid, window = await heat_window(db=db, layer=layer, tile=tile, filters=filters)
    if not grid.any():
        return render.empty_png()
    scale = await zoom_scale(db=db, layer=layer, level=window.level, filters=filters)
    return render.heat_png(grid, window.n, scale)
