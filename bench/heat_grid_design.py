"""A prototype build of the proposed heat grid, timed next to the current one.

The proposal (docs/heat-grid-design.md): one row per cell with its dims pairs packed
in arrays (pair rank, count, weight), levels 5-12 whole, and at levels 13-18 only the
cells of dense blocks (a block: the 32 x 32 cells one heatmap tile reads; dense: at
least DENSE points); sparse blocks would be counted from the points at read time. The
dense sets are nested (a block's points are its parent's), so each point is expanded to
the levels 13..f where f is the finest level at which its block is dense, and all fine
cells come out of one aggregate. Only the build is prototyped here (no read path, fold
or percentile): its time and rows, to decide whether the redesign meets issue 22's
60 s, on the same `tiles.heat_point` as bench/heat_profile.py.
"""

from __future__ import annotations

import time

import psycopg

from carto.tiles.grid import HEAT_MAX_LEVEL, HEAT_MIN_LEVEL

DENSE = 1024
WRITE_ALONE = "(the packed rows written again)"  # timed, not part of the build
FINE = 13  # first level stored only in dense blocks
TOP = HEAT_MAX_LEVEL
SHIFT = TOP - FINE  # a z13 tile's block at level 18 is `cell >> 5`; at level L, >> (23 - L)


# Intermediates are temporary (no WAL, as in tiles.rebuild_heat); the grid is logged.
def steps(dense: int) -> tuple[tuple[str, str], ...]:
    """(name, statement) of each step of the build, blocks dense from `dense` points."""
    return (
        (
            "pairs of dims",
            """CREATE TEMPORARY TABLE pair AS
               SELECT row_number() OVER (ORDER BY dim_a COLLATE "C", dim_b COLLATE "C")::smallint
                      AS k, dim_a, dim_b
               FROM (SELECT DISTINCT dim_a, dim_b FROM tiles.heat_point WHERE layer = %(l)s) s""",
        ),
        (
            "points at level 18 (one pass)",
            f"""CREATE TEMPORARY TABLE pt AS
               SELECT tiles.tile_y(h.y, {TOP}) AS cy, tiles.tile_x(h.x, {TOP}) AS cx, p.k, h.w
               FROM tiles.heat_point h JOIN pair p USING (dim_a, dim_b)
               WHERE h.layer = %(l)s""",
        ),
        (
            "level-18 blocks and level-12 cells",
            f"""CREATE TEMPORARY TABLE first AS
               SELECT cy >> 5 AS by, cx >> 5 AS bx, NULL::integer AS cy12, NULL::integer AS cx12,
                      NULL::smallint AS k, count(*)::integer AS n, NULL::float8 AS w
               FROM pt GROUP BY 1, 2
               UNION ALL
               SELECT NULL, NULL, cy >> {TOP - FINE + 1}, cx >> {TOP - FINE + 1}, k,
                      count(*)::integer, sum(w)
               FROM pt GROUP BY 3, 4, 5""",
        ),
        (
            "finest dense level per block",
            f"""CREATE TEMPORARY TABLE finest AS
               WITH b AS (SELECT by, bx, n FROM first WHERE by IS NOT NULL),
               up AS (SELECT b.by, b.bx, lv, b.by >> ({TOP} - lv) AS dy, b.bx >> ({TOP} - lv) AS dx,
                             b.n
                      FROM b, generate_series({FINE}, {TOP}) lv),
               dense AS (SELECT lv, dy, dx FROM up GROUP BY 1, 2, 3 HAVING sum(n) >= {dense})
               SELECT up.by, up.bx, max(up.lv) AS f
               FROM up JOIN dense USING (lv, dy, dx) GROUP BY up.by, up.bx""",
        ),
        (
            "points of dense blocks",
            """CREATE TEMPORARY TABLE dense_pt AS
               SELECT p.cy, p.cx, p.k, p.w, f.f
               FROM pt p JOIN finest f ON f.by = p.cy >> 5 AND f.bx = p.cx >> 5""",
        ),
        (
            "fine cells of dense blocks",
            "CREATE TEMPORARY TABLE fine AS "
            + " UNION ALL ".join(
                f"""SELECT {lv}::smallint AS level, cy >> {TOP - lv} AS cy, cx >> {TOP - lv} AS cx,
                           k, count(*)::integer AS n, sum(w) AS w
                    FROM dense_pt WHERE f >= {lv} GROUP BY 2, 3, 4"""
                for lv in range(FINE, TOP + 1)
            ),
        ),
        (
            "coarse cells",
            f"""CREATE TEMPORARY TABLE coarse AS
               SELECT lv::smallint AS level, cy12 >> ({FINE - 1} - lv) AS cy,
                      cx12 >> ({FINE - 1} - lv) AS cx, k, sum(n)::integer AS n, sum(w) AS w
               FROM (SELECT cy12, cx12, k, n, w FROM first WHERE k IS NOT NULL) c,
                    generate_series({HEAT_MIN_LEVEL}, {FINE - 1}) lv
               GROUP BY 1, 2, 3, 4""",
        ),
        (
            "packed grid, sorted insert",
            """CREATE TABLE proto.grid AS
               SELECT level, cy, cx, sum(n)::integer AS n, sum(w) AS w,
                      array_agg(k) AS k, array_agg(n) AS kn, array_agg(w) AS kw
               FROM (SELECT * FROM (SELECT * FROM fine UNION ALL SELECT * FROM coarse) u
                     ORDER BY level, cy, cx, k OFFSET 0) s
               GROUP BY level, cy, cx""",
        ),
        ("primary key", "ALTER TABLE proto.grid ADD PRIMARY KEY (level, cy, cx)"),
        # What writing the packed rows costs alone (a build outside SQL would COPY them in).
        (WRITE_ALONE, "CREATE TABLE proto.written AS TABLE proto.grid"),
        ("analyze", "ANALYZE proto.grid"),
    )


def build(conn: psycopg.Connection, layer: str, *, dense: int = DENSE, keep: bool = False) -> float:
    """Build the prototype grid of `layer` step by step (`proto.grid`, dropped unless
    `keep`); seconds in all."""
    conn.execute("SET work_mem = '1GB'; SET maintenance_work_mem = '1GB'; SET jit = off")
    conn.execute("DROP SCHEMA IF EXISTS proto CASCADE; CREATE SCHEMA proto")
    for name in ("pair", "pt", "first", "finest", "dense_pt", "fine", "coarse"):
        conn.execute(f"DROP TABLE IF EXISTS pg_temp.{name}")
    total = 0.0
    print(f"  prototype (packed, dense blocks >= {dense} points at levels {FINE}-{TOP}):")
    for name, statement in steps(dense):
        began = time.perf_counter()
        conn.execute(statement, {"l": layer})
        seconds = time.perf_counter() - began
        total += 0.0 if name == WRITE_ALONE else seconds
        print(f"    {name:<36} {seconds:7.2f} s", flush=True)
    counts = conn.execute(
        f"SELECT count(*) FILTER (WHERE level < {FINE}), count(*) FILTER (WHERE level >= {FINE}),"
        " pg_size_pretty(pg_total_relation_size('proto.grid')),"
        " (SELECT count(*) FROM pt), (SELECT count(*) FROM fine) FROM proto.grid"
    ).fetchone()
    assert counts is not None
    print(f"    total {total:.1f} s; {counts[3]:,} points -> {counts[0]:,} coarse +"
          f" {counts[1]:,} fine rows, {counts[2]} with its key; unpacked, the fine cells"
          f" would be {counts[1] + counts[4]:,} rows (totals and pairs)", flush=True)  # fmt: skip
    check = conn.execute(
        f"SELECT (SELECT sum(n) FROM proto.grid WHERE level = {HEAT_MIN_LEVEL}),"
        f" (SELECT sum(n) FROM proto.grid WHERE level = {FINE})"
    ).fetchone()
    assert check is not None and check[0] == counts[3], check  # every point counted once
    if not keep:
        conn.execute("DROP SCHEMA proto CASCADE")
    return total
