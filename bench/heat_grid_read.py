"""What a heatmap window would cost to read from the proposed grid, next to today's.

Usage: python -m bench.heat_grid_read [POINTS] [--repeat N]   (default 1,000,000, 30)

On the bench points (bench/heat_rebuild.py's seed), builds today's grid
(`tiles.rebuild_heat`), the layer's point index (`tiles.index_point_layer`: SP-GiST on
`tiles.heat_point`) and the proposed packed grid (bench/heat_grid_numpy.py, dense blocks
from 1,024 points), then times for a z8 tile over the MEL (level 13), a z12 tile in the
MEL (level 17) and a z12 tile in the French countryside (level 17) the window reads of
carto/tiles/heat.py, unfiltered and filtered on one state:
- today: one index range per cell row of `tiles.heat_cell` (carto/tiles/sql.py);
- packed: the same ranges on `proto.npgrid`, the filtered value summed from the pairs;
- points: the window's points counted into cells from the point index, what a sparse
  block costs (and what a dense one would cost if it were not stored).
Statements only (no PNG), each repeated; medians and 95th percentiles in ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import psycopg

from bench import heat_grid_numpy
from bench.common import bench_database, percentile
from bench.heat_grid_design import DENSE, FINE
from bench.heat_rebuild import LAYER, seed
from carto.tiles import render
from carto.tiles.grid import TileRequest, cell_window, mercator_tms

TILES = {"z8 MEL": (3.06, 50.63, 8), "z12 MEL": (3.06, 50.63, 12), "z12 Creuse": (2.05, 46.1, 12)}
TODAY = """
SELECT count(*), coalesce(sum(h.n), 0) FROM generate_series(%(cy0)s::int, %(cy1)s::int) AS r(cy)
CROSS JOIN LATERAL (SELECT h.n FROM tiles.heat_cell h
                    WHERE h.layer = %(l)s AND {cond} AND h.level = %(level)s::int AND h.cy = r.cy
                      AND h.cx BETWEEN %(cx0)s AND %(cx1)s OFFSET 0) h
"""
PACKED = """
SELECT count(*), coalesce(sum(g.v), 0) FROM generate_series(%(cy0)s::int, %(cy1)s::int) AS r(cy)
CROSS JOIN LATERAL (SELECT {value} AS v FROM proto.npgrid g
                    WHERE g.level = %(level)s::int AND g.cy = r.cy
                      AND g.cx BETWEEN %(cx0)s AND %(cx1)s OFFSET 0) g
"""
POINTS = """
SELECT count(*), coalesce(sum(c.n), 0) FROM (
    SELECT tiles.tile_x(d.x, %(level)s::int) AS cx, tiles.tile_y(d.y, %(level)s::int) AS cy,
           count(*) AS n
    FROM tiles.heat_point d, ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => %(ratio)s) AS b
    WHERE d.layer = 'bench_points'
      AND point(d.x, d.y) <@ box(point(ST_XMin(b), ST_YMin(b)), point(ST_XMax(b), ST_YMax(b)))
      {cond}
    GROUP BY 1, 2) c
WHERE c.cx BETWEEN %(cx0)s AND %(cx1)s AND c.cy BETWEEN %(cy0)s AND %(cy1)s
"""
RESOLVED = "(SELECT k FROM pair WHERE dim_b = 'resolved')"


def window(lon: float, lat: float, z: int) -> dict[str, object]:
    t = mercator_tms().tile(lon, lat, z)
    w = cell_window(TileRequest(z, t.x, t.y), margin=render.MARGIN)
    cx0, cy0, cx1, cy1 = w.bounds
    return {"z": z, "x": t.x, "y": t.y, "level": w.level, "cx0": cx0, "cy0": cy0,
            "cx1": cx1, "cy1": cy1, "ratio": w.margin / w.n, "l": LAYER}  # fmt: skip


def timed(conn: psycopg.Connection, sql: str, params: dict[str, object], repeat: int) -> str:
    runs, found = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        found = conn.execute(sql, params).fetchone()  # type: ignore[arg-type]
        runs.append((time.perf_counter() - began) * 1000)
    assert found is not None
    return (f"median {statistics.median(runs):6.2f} / p95 {percentile(runs, 0.95):6.2f} ms"
            f"  ({found[0]:,} cells, {int(found[1]):,} points)")  # fmt: skip


def main(points: int, repeat: int) -> None:
    with bench_database(f"heat_{points}") as url, psycopg.connect(url, autocommit=True) as conn:
        conn.add_notice_handler(lambda _: None)
        print(f"  seeded {points:,} points in {seed(conn, points):.1f} s", flush=True)
        conn.execute("SET work_mem = '256MB'")
        conn.execute("SELECT tiles.rebuild_heat(%s, true)", (LAYER,))
        conn.execute("SELECT tiles.index_point_layer(%s)", (LAYER,))
        conn.execute("CREATE SCHEMA proto")
        conn.execute(
            "CREATE TEMPORARY TABLE pair AS SELECT row_number() OVER (ORDER BY dim_a COLLATE"
            ' "C", dim_b COLLATE "C") AS k, dim_a, dim_b FROM tiles.heat_point'
            " WHERE layer = %s GROUP BY 2, 3", (LAYER,)
        )  # fmt: skip
        heat_grid_numpy.build(conn, LAYER, dense=DENSE, fine=FINE, write=True)
        conn.execute("VACUUM ANALYZE proto.npgrid")
        conn.execute("VACUUM ANALYZE tiles.heat_point")
        conn.execute("RESET work_mem")
        ks = [r[0] for r in conn.execute(RESOLVED.strip("()"))]
        print(f"  load average {os.getloadavg()[0]:.1f}; {repeat} runs per statement", flush=True)
        for name, (lon, lat, z) in TILES.items():
            params = window(lon, lat, z) | {"ks": ks}
            print(f"  {name} (level {params['level']}):", flush=True)
            for label, sql in (
                ("today, all", TODAY.format(cond="h.dim_a = '' AND h.dim_b = ''")),
                ("today, state", TODAY.format(
                    cond="h.dim_b = 'resolved' AND h.dim_a <> ''")),
                ("packed, all", PACKED.format(value="g.n")),
                ("packed, state", PACKED.format(
                    value="(SELECT sum(u.n) FROM unnest(g.k, g.kn) u(k, n)"
                          " WHERE u.k = ANY(%(ks)s))")),
                ("points, all", POINTS.format(cond="")),
                ("points, state", POINTS.format(cond="AND d.dim_b = 'resolved'")),
            ):  # fmt: skip
                print(f"    {label:<14} {timed(conn, sql, params, repeat)}", flush=True)
        print(f"  load average {os.getloadavg()[0]:.1f} after", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("points", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    main(args.points, args.repeat)
