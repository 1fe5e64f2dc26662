"""A stale colour scale is served at once and refreshed in the background (served app).

At fine levels the percentile reads millions of cells; holding the request for it put
the tile bench's heatmap p95 at 0.1-1 s. Only a level that never had a scale waits."""

from __future__ import annotations

import asyncio

import asyncpg
import psycopg
import pytest

from carto.tiles import heat
from carto.tiles.db import PoolTileDB
from carto.tiles.filters import TileFilters
from carto.tiles.layers import TileLayer

LEVEL = 5
STALE = 123.0


@pytest.fixture
def stale_scale(demo_db: str, test_layer: TileLayer):
    """A scale computed an hour ago, before the layer's last change."""
    with psycopg.connect(demo_db, autocommit=True) as conn:
        conn.execute(
            """INSERT INTO tiles.heat_stats (layer, variant, level, weighted, p99, computed_at)
               VALUES (%s, '', %s, false, %s, now() - interval '1 hour')
               ON CONFLICT (layer, variant, level, weighted)
               DO UPDATE SET p99 = EXCLUDED.p99, computed_at = EXCLUDED.computed_at""",
            (test_layer.name, LEVEL, STALE),
        )
        conn.execute(
            """INSERT INTO tiles.layer_state (layer, changed_at) VALUES (%s, now())
               ON CONFLICT (layer) DO UPDATE SET changed_at = EXCLUDED.changed_at""",
            (test_layer.name,),
        )
    heat._scales.clear()
    yield
    with psycopg.connect(demo_db, autocommit=True) as conn:
        conn.execute("DELETE FROM tiles.heat_stats WHERE layer = %s", (test_layer.name,))
    heat._scales.clear()


async def test_stale_scale_served_then_refreshed_once(demo_db, test_layer, stale_scale):
    pool = await asyncpg.create_pool(demo_db, min_size=1, max_size=3)
    try:
        db = PoolTileDB(pool)
        filters = TileFilters()
        args = {"db": db, "layer": test_layer, "level": LEVEL, "filters": filters}
        first, second = await asyncio.gather(heat.zoom_scale(**args), heat.zoom_scale(**args))
        assert (first, second) == (STALE, STALE)  # nobody waited for the percentile
        tasks = list(heat._refreshing.values())
        assert len(tasks) == 1  # one refresh for both requests
        refreshed = await tasks[0]
        await asyncio.sleep(0)  # the done callback
        assert not heat._refreshing

        statement, extra = heat._percentile_sql(test_layer, filters)
        found = await db.row(statement, {"layer": test_layer.name, "level": LEVEL} | extra)
        assert refreshed == float((found or {}).get("p99") or 0.0)
        row = await db.row(
            "SELECT p99, computed_at > now() - interval '1 minute' AS fresh FROM tiles.heat_stats"
            " WHERE layer = :layer AND variant = '' AND level = :level AND NOT weighted",
            {"layer": test_layer.name, "level": LEVEL},
        )
        assert row is not None and row["fresh"] and row["p99"] == refreshed
        assert await heat.zoom_scale(**args) == refreshed  # the next request has it
    finally:
        await pool.close()


async def test_missing_scale_is_computed_before_answering(demo_db, test_layer, stale_scale):
    with psycopg.connect(demo_db, autocommit=True) as conn:
        conn.execute("DELETE FROM tiles.heat_stats WHERE layer = %s", (test_layer.name,))
    pool = await asyncpg.create_pool(demo_db, min_size=1, max_size=2)
    try:
        db = PoolTileDB(pool)
        scale = await heat.zoom_scale(db=db, layer=test_layer, level=LEVEL, filters=TileFilters())
        assert not heat._refreshing
        row = await db.row(
            "SELECT p99 FROM tiles.heat_stats WHERE layer = :layer AND level = :level",
            {"layer": test_layer.name, "level": LEVEL},
        )
        assert row is not None and row["p99"] == scale
    finally:
        await pool.close()
