"""The prototype of the proposed heat grid (bench/heat_grid_design.py, its SQL to be reused
by the redesign) holds exactly the current grid's cells where the design stores them:
every cell of levels 5-12, and at levels 13-18 every cell of the blocks that hold at least
`dense` points (and no other), with each pair of dims packed in the cell's row; the
numpy sketch of the same build (bench/heat_grid_numpy.py) counts the same rows and
gives each level the colour scale the heatmaps compute from the current grid."""

from __future__ import annotations

import psycopg

from bench import heat_grid_numpy
from bench.heat_grid_design import FINE, build
from bench.tiles.seed import seed_points

LAYER = "bench_points"
DENSE = 12  # small, so that 1,000 points make both dense and sparse blocks at each level
CURRENT = """
SELECT level, cy, cx, dim_a, dim_b, n, w FROM tiles.heat_cell h
WHERE layer = %(l)s
  AND (level < %(fine)s OR (level, cy >> 5, cx >> 5) IN (
      SELECT level, cy >> 5, cx >> 5 FROM tiles.heat_cell
      WHERE layer = %(l)s AND level >= %(fine)s AND dim_b = ''
      GROUP BY 1, 2, 3 HAVING sum(n) >= %(dense)s))
ORDER BY level, cy, cx, dim_a COLLATE "C", dim_b COLLATE "C"
"""
GRID = "level, cy, cx, n, w, k, kn, kw"
SCALES = """
SELECT level, percentile_cont(0.99) WITHIN GROUP (ORDER BY {0}) FROM tiles.heat_cell
WHERE layer = %s AND dim_a = '' AND dim_b = '' AND {0} > 0 GROUP BY level
"""
PACKED = """
SELECT level, cy, cx, dim_a, dim_b, n, w FROM (
    SELECT level, cy, cx, '' AS dim_a, '' AS dim_b, n, w FROM proto.grid
    UNION ALL
    SELECT g.level, g.cy, g.cx, p.dim_a, p.dim_b, u.n, u.w
    FROM proto.grid g, unnest(g.k, g.kn, g.kw) AS u(k, n, w) JOIN pair p ON p.k = u.k) s
ORDER BY level, cy, cx, dim_a COLLATE "C", dim_b COLLATE "C"
"""


def test_prototype_grid_holds_the_current_cells_of_its_blocks(db_url):
    try:
        seed_points(db_url, mel=600, france=400, seed=11)
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute("SELECT tiles.rebuild_heat(%s, true)", (LAYER,))
            expected = conn.execute(CURRENT, {"l": LAYER, "fine": FINE, "dense": DENSE}).fetchall()
            build(conn, LAYER, dense=DENSE, keep=True)
            packed = conn.execute(PACKED).fetchall()
            sparse = conn.execute(
                "SELECT count(DISTINCT (level, cy >> 5, cx >> 5)) FROM tiles.heat_cell"
                " WHERE layer = %s AND level >= %s", (LAYER, FINE)
            ).fetchone()[0]  # fmt: skip
            arrays = conn.execute(
                "SELECT bool_and(k = (SELECT array_agg(x ORDER BY x) FROM unnest(k) x)),"
                " bool_and(n = (SELECT sum(x) FROM unnest(kn) x)) FROM proto.grid"
            ).fetchone()  # fmt: skip
            rows = conn.execute(
                "SELECT count(*) FILTER (WHERE level < %(f)s),"
                " count(*) FILTER (WHERE level >= %(f)s),"
                " sum(cardinality(k)) FILTER (WHERE level >= %(f)s) FROM proto.grid",
                {"f": FINE},
            ).fetchone()  # fmt: skip
            scales: dict[tuple[int, bool], float] = {}
            sketch = heat_grid_numpy.build(
                conn, LAYER, dense=DENSE, fine=FINE, scales=scales, write=True
            )
            copied, built = (
                conn.execute(f"SELECT {GRID} FROM proto.{t} ORDER BY level, cy, cx").fetchall()
                for t in ("npgrid", "grid")
            )
            stored = {
                (level, weighted): p99
                for weighted in (False, True)
                for level, p99 in conn.execute(SCALES.format("w" if weighted else "n"), (LAYER,))
            }
        fine = [r for r in expected if r[0] >= FINE]
        assert len(expected) > 1000 and len(fine) > 100
        assert sparse > len({(r[0], r[1] >> 5, r[2] >> 5) for r in fine})  # some left out
        assert packed == expected
        assert arrays == (True, True)  # pairs sorted by rank, summing to the cell's count
        # The numpy sketch (one sort, a roll-up per level) finds the same rows.
        assert sketch["points"] == 1000
        assert (sketch["coarse cells"], sketch["fine cells"], sketch["fine pairs"]) == rows
        assert copied == built  # its packed rows, COPYed in, are the SQL prototype's
        # ... and each level's colour scales, as the heatmaps compute them from the grid.
        assert len(scales) == 2 * 14 and scales.keys() == stored.keys()
        assert len({round(v, 6) for v in scales.values()}) > 5  # not all alike
        for key, p99 in stored.items():
            assert abs(scales[key] - p99) <= 1e-9 * max(1.0, p99), key
    finally:
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute("DROP SCHEMA IF EXISTS proto CASCADE")
            conn.execute("DROP SCHEMA IF EXISTS bench CASCADE")
            conn.execute("DELETE FROM tiles.point_layer WHERE layer = %s", (LAYER,))
            conn.execute("DELETE FROM tiles.heat_point WHERE layer = %s", (LAYER,))
            conn.execute("DELETE FROM tiles.heat_cell WHERE layer = %s", (LAYER,))
