"""Seeded bench points: clustered around centres like real reports, over the MEL and France.

60 % of the points fall around centres (Gaussian, ~1 km in the MEL, ~5 km in France),
40 % uniformly in the bounding box. The table gets a primary key, a GiST index on
`geom` (EPSG:4326, what tipg reads) and one on the stored `geom_3857` (what Carto
reads), and Carto's heat grid is built from the view.
"""

from __future__ import annotations

import time

import psycopg

from carto.tiles.maintenance import vacuum_tile_tables

MEL_BBOX = (2.79, 50.50, 3.27, 50.80)
FRANCE_BBOX = (-4.6, 42.5, 7.9, 51.0)

SCHEMA = """
CREATE SCHEMA IF NOT EXISTS bench;
DROP TABLE IF EXISTS bench.point CASCADE;
CREATE TABLE bench.point (
    id bigint PRIMARY KEY,
    service_code text NOT NULL,
    state text NOT NULL,
    supports integer NOT NULL,
    created_at timestamptz NOT NULL,
    geom geometry(Point, 4326) NOT NULL,
    geom_3857 geometry(Point, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED
);
CREATE VIEW bench.points AS
    SELECT id, service_code, state, supports, created_at, geom, geom_3857 FROM bench.point;
INSERT INTO tiles.point_layer (layer, source, id_type, dim_a, dim_b, weight, maxzoom)
VALUES ('bench_points', 'bench.points', 'bigint', 'service_code', 'state', 'supports', 18)
ON CONFLICT (layer) DO NOTHING;
"""

INSERT = """
WITH centres AS (
    SELECT array_agg(%(w)s + random() * (%(e)s - %(w)s)) AS lon,
           array_agg(%(s)s + random() * (%(n)s - %(s)s)) AS lat
    FROM generate_series(1, %(centres)s)
)
INSERT INTO bench.point (id, service_code, state, supports, created_at, geom)
SELECT g + %(offset)s,
       (ARRAY['voirie', 'dechets', 'proprete', 'eclairage', 'espaces-verts', 'mobilier'])
           [1 + floor(random() * 6)::int],
       (ARRAY['new', 'acknowledged', 'in_progress', 'resolved', 'rejected', 'reopened'])
           [1 + floor(random() * 6)::int],
       floor(random() * random() * 20)::int,
       now() - random() * interval '730 days',
       ST_SetSRID(ST_MakePoint(
           CASE WHEN u < 0.6 THEN c.lon[1 + (g %% %(centres)s)] + %(sigma)s * r * cos(t)
                ELSE %(w)s + random() * (%(e)s - %(w)s) END,
           CASE WHEN u < 0.6 THEN c.lat[1 + (g %% %(centres)s)] + %(sigma)s * r * sin(t)
                ELSE %(s)s + random() * (%(n)s - %(s)s) END), 4326)
FROM centres c, generate_series(1, %(count)s) AS g,
     LATERAL (SELECT random() AS u, sqrt(-2 * ln(1 - random())) AS r,
                     2 * pi() * random() AS t, g AS per_row) p  -- g: one draw per row
"""


def seed_points(url: str, *, mel: int, france: int, seed: int) -> dict[str, float]:
    """Create and fill bench.point; seconds per step."""
    timings: dict[str, float] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET max_parallel_workers_per_gather = 0")  # deterministic random()
        conn.execute(SCHEMA)
        conn.execute("SELECT setseed(%s)", (seed / 1000.0,))
        started = time.perf_counter()
        w, s, e, n = MEL_BBOX
        conn.execute(
            INSERT,
            {"w": w, "s": s, "e": e, "n": n, "centres": 40, "sigma": 0.01, "count": mel,
             "offset": 0},
        )  # fmt: skip
        if france:
            w, s, e, n = FRANCE_BBOX
            conn.execute(
                INSERT,
                {"w": w, "s": s, "e": e, "n": n, "centres": 400, "sigma": 0.05, "count": france,
                 "offset": mel},
            )  # fmt: skip
        timings["insert"] = time.perf_counter() - started
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute("RESET max_parallel_workers_per_gather")
        started = time.perf_counter()
        conn.execute("CREATE INDEX bench_point_geom ON bench.point USING gist (geom)")
        timings["gist_4326"] = time.perf_counter() - started
        started = time.perf_counter()
        conn.execute("CREATE INDEX bench_point_geom_3857 ON bench.point USING gist (geom_3857)")
        timings["gist_3857"] = time.perf_counter() - started
        started = time.perf_counter()
        conn.execute("SET work_mem = '256MB'")
        conn.execute("SELECT tiles.rebuild_heat('bench_points')")
        timings["heat_grid"] = time.perf_counter() - started
        started = time.perf_counter()
        conn.execute("SELECT tiles.index_point_layer('bench_points')")
        timings["stored_points_index"] = time.perf_counter() - started
        started = time.perf_counter()
        conn.execute("VACUUM (ANALYZE) bench.point")
    vacuum_tile_tables(url)  # as every bulk load ends: tiles.heat_point all-visible
    timings["vacuum_analyze"] = time.perf_counter() - started
    return timings
