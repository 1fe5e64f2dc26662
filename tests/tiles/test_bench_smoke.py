"""The tiles benchmark's seed and layer on 1,000 points (the bench itself is not a test)."""

from __future__ import annotations

import random

import mapbox_vector_tile
import psycopg

from bench.tiles.index_compare import compare
from bench.tiles.run import carto_paths, heat_paths, sample_tiles, tipg_paths
from bench.tiles.seed import seed_points
from bench.tiles.serve import BENCH_LAYER
from bench.tiles.states import autovacuum_off, visibility, write_share
from carto.tiles.layers import TILE_LAYERS


def reloptions(url: str, table: str) -> list[str]:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT coalesce(reloptions, '{}') FROM pg_class WHERE oid = %s::regclass", (table,)
        ).fetchone()
    return list(row[0])


def test_production_like_state_writes_through_the_trigger_without_vacuum(demo_db):
    """The bench's second state: seeded and vacuumed, then 5 % written through the layer's
    trigger with autovacuum off (and its settings restored after)."""
    try:
        with psycopg.connect(demo_db) as conn:
            before = conn.execute("SELECT now()").fetchone()[0]
        seed_points(demo_db, mel=600, france=400, seed=7)
        with psycopg.connect(demo_db) as conn:  # the seed ends with a vacuum
            vacuumed = conn.execute(
                "SELECT last_vacuum > %s FROM pg_stat_user_tables"
                " WHERE relid = 'tiles.heat_point'::regclass",
                (before,),
            ).fetchone()[0]
        assert vacuumed
        kept = reloptions(demo_db, "tiles.heat_point")
        with autovacuum_off(demo_db):
            assert "autovacuum_enabled=false" in reloptions(demo_db, "tiles.heat_point")
            assert "autovacuum_enabled=false" in reloptions(demo_db, "bench.point")
            writes = write_share(demo_db, share=0.05, seed=7)
            state = visibility(demo_db)
        assert (writes["insert"], writes["update"], writes["delete"]) == (25, 20, 5)
        assert state["all_visible_share"] < 1.0 and state["dead_rows"] > 0
        assert reloptions(demo_db, "tiles.heat_point") == kept
        assert "autovacuum_enabled=false" not in reloptions(demo_db, "bench.point")
        with psycopg.connect(demo_db) as conn:
            points = conn.execute("SELECT count(*) FROM bench.point").fetchone()[0]
            stored = conn.execute(
                "SELECT count(*) FROM tiles.heat_point WHERE layer = 'bench_points'"
            ).fetchone()[0]
            cells = conn.execute(
                "SELECT sum(n) FROM tiles.heat_cell WHERE layer = 'bench_points' "
                "AND level = 5 AND dim_a = ''"
            ).fetchone()[0]
            resolved = conn.execute(
                "SELECT count(*) FROM tiles.heat_point WHERE layer = 'bench_points' "
                "AND dim_b IN ('acknowledged', 'in_progress', 'resolved')"
            ).fetchone()[0]
        assert points == stored == cells == 1000 + 25 - 5  # trigger and fold kept up
        assert resolved > 0
    finally:
        with psycopg.connect(demo_db, autocommit=True) as conn:
            conn.execute("DROP SCHEMA IF EXISTS bench CASCADE")
            conn.execute("DELETE FROM tiles.point_layer WHERE layer = 'bench_points'")
            conn.execute("DELETE FROM tiles.heat_point WHERE layer = 'bench_points'")
            conn.execute("DELETE FROM tiles.heat_cell WHERE layer = 'bench_points'")


async def test_bench_seed_and_tiles(tclient, demo_db):
    timings = seed_points(demo_db, mel=600, france=400, seed=7)
    assert set(timings) >= {"insert", "heat_grid"}
    TILE_LAYERS.register(BENCH_LAYER.name, BENCH_LAYER)
    try:
        with psycopg.connect(demo_db) as conn:
            total = conn.execute("SELECT count(*) FROM bench.points").fetchone()[0]
            cells = conn.execute(
                "SELECT sum(n) FROM tiles.heat_cell WHERE layer = 'bench_points' "
                "AND level = 5 AND dim_a = ''"
            ).fetchone()[0]
        assert total == cells == 1000
        rnd = random.Random(7)
        [z8] = sample_tiles(demo_db, 8, 1, rnd, range(1, 601))
        assert carto_paths([z8])[0] == f"/tiles/bench_points/{z8[0]}/{z8[1]}/{z8[2]}.mvt"
        assert "/collections/bench.point/tiles/WebMercatorQuad/" in tipg_paths([z8])[0]
        resp = await tclient.get(carto_paths([z8])[0])
        features = mapbox_vector_tile.decode(resp.content)["bench_points"]["features"]
        with psycopg.connect(demo_db) as conn:
            inside = conn.execute(
                "SELECT count(*) FROM bench.points WHERE geom_3857 && ST_TileEnvelope(%s, %s, %s)",
                z8,
            ).fetchone()[0]
        assert sum(f["properties"]["count"] for f in features) == inside > 0
        heat = await tclient.get(heat_paths([z8])[0])
        assert heat.status_code == 200 and heat.headers["content-type"] == "image/png"
        found = compare(demo_db, {"z8": [z8]})  # stored column vs expression index
        assert found["expression_plan_uses_index"] and found["z8_points_per_tile"] >= inside
        assert set(found["z8"]) == {
            "stored geom_3857 column",
            "expression index ST_Transform(geom, 3857)",
        }
    finally:
        TILE_LAYERS.unregister("bench_points")
        with psycopg.connect(demo_db, autocommit=True) as conn:
            conn.execute("DROP SCHEMA bench CASCADE")
            conn.execute("DELETE FROM tiles.point_layer WHERE layer = 'bench_points'")
            conn.execute("DELETE FROM tiles.heat_point WHERE layer = 'bench_points'")
            conn.execute("DELETE FROM tiles.heat_cell WHERE layer = 'bench_points'")
