"""Where a full recomputation of the heat grid spends its time, phase by phase.

Usage: python -m bench.heat_profile [POINTS] [--keep] [--plans FILE] [--prototype also|only|numpy]
                                   [--rounds N]
(default 1,000,000 points; --keep as in bench/heat_rebuild.py).

Runs the statements of `tiles.rebuild_heat(layer, true)` from an empty
`tiles.heat_point` (carto/tiles/sql/heat.sql) one by one, with the function's settings
(work_mem and maintenance_work_mem 1 GB, jit off), each under EXPLAIN (ANALYZE, BUFFERS,
WAL) where PostgreSQL allows it, and prints per phase: seconds, rows, WAL written,
temporary-file blocks written, parallel workers planned/launched. Then the grid's rows
per level, and the settings that bound a bulk build. The text plans go to --plans.
Not a figure against a baseline: a profile, to decide what to change (bench/RESULTS.md
keeps bench/heat_rebuild.py's figures).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from bench import heat_grid_design, heat_grid_numpy
from bench.common import bench_database
from bench.heat_rebuild import LAYER, seed
from carto.tiles.grid import HEAT_MAX_LEVEL, HEAT_MIN_LEVEL

SETTINGS = (
    "work_mem", "maintenance_work_mem", "shared_buffers", "temp_buffers", "max_wal_size",
    "wal_level", "max_worker_processes", "max_parallel_workers",
    "max_parallel_workers_per_gather", "max_parallel_maintenance_workers", "synchronous_commit",
)  # fmt: skip
FRESH = """
SELECT id::text AS id, ST_X(p) AS x, ST_Y(p) AS y,
       ST_XMin(b) AS bxmin, ST_YMin(b) AS bymin, ST_XMax(b) AS bxmax, ST_YMax(b) AS bymax,
       coalesce(nullif(service_code::text, ''), '-') AS dim_a,
       coalesce(nullif(state::text, ''), '-') AS dim_b,
       coalesce(supports::double precision, 0) AS w
FROM (SELECT v.*, ST_PointOnSurface(v.geom_3857) AS p, v.geom_3857::box2d AS b
      FROM bench.points v WHERE v.geom_3857 IS NOT NULL) s
"""


def lsn(conn: psycopg.Connection) -> str:
    return conn.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()[0]  # type: ignore[index]


def wal_since(conn: psycopg.Connection, start: str) -> int:
    row = conn.execute("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), %s)", (start,))
    return int(row.fetchone()[0])  # type: ignore[index]


def walk(node: dict[str, Any]) -> tuple[int, int, int]:
    """(temp blocks written, workers planned, workers launched) of a plan tree (buffer
    counts are cumulative: the top node's include its children's)."""
    temp = int(node.get("Temp Written Blocks", 0))
    planned = int(node.get("Workers Planned", 0))
    launched = int(node.get("Workers Launched", 0))
    for child in node.get("Plans", []):
        _, p, la = walk(child)
        planned, launched = max(planned, p), max(launched, la)
    return temp, planned, launched


class Profile:
    def __init__(self, conn: psycopg.Connection, plans: list[str]) -> None:
        self.conn, self.plans, self.rows = conn, plans, []  # type: ignore[var-annotated]

    def explain(self, name: str, statement: sql.Composable) -> None:
        start = lsn(self.conn)
        began = time.perf_counter()
        query = sql.SQL("EXPLAIN (ANALYZE, BUFFERS, WAL, FORMAT JSON) ") + statement
        plan = self.conn.execute(query).fetchone()[0][0]  # type: ignore[index]
        seconds = time.perf_counter() - began
        temp, planned, launched = walk(plan["Plan"])
        rows = plan["Plan"].get("Actual Rows", 0)
        if plan["Plan"].get("Node Type") == "ModifyTable":
            rows = plan["Plan"]["Plans"][0].get("Actual Rows", 0)
        self.plans.append(f"-- {name}\n{json.dumps(plan, indent=1)}")
        self.add(name, seconds, rows, wal_since(self.conn, start), temp, f"{planned}/{launched}")

    def timed(self, name: str, statement: sql.Composable | str, rows: int | None = None) -> None:
        start = lsn(self.conn)
        began = time.perf_counter()
        self.conn.execute(statement)  # type: ignore[arg-type]
        self.add(name, time.perf_counter() - began, rows, wal_since(self.conn, start), None, "")

    def add(self, name: str, seconds: float, rows: int | None, wal: int, temp: int | None,
            workers: str) -> None:  # fmt: skip
        self.rows.append((name, seconds, rows, wal, temp, workers))
        temp_mb = "" if temp is None else f"{temp * 8 / 1024:,.0f}"
        print(f"  {name:<34} {seconds:8.2f} s  rows {rows if rows is not None else '':>11}"
              f"  WAL {wal / 2**20:8,.0f} MiB  temp {temp_mb:>6} MiB  workers {workers}",
              flush=True)  # fmt: skip


def profile(
    conn: psycopg.Connection, plans: list[str], *, grid: bool = True
) -> list[tuple[Any, ...]]:
    p = Profile(conn, plans)
    lit = sql.Literal
    conn.execute("SET work_mem = '1GB'; SET maintenance_work_mem = '1GB'; SET jit = off")
    conn.execute("DELETE FROM tiles.heat_point WHERE layer = %s", (LAYER,))
    conn.execute("DELETE FROM tiles.heat_cell WHERE layer = %s", (LAYER,))
    conn.execute("VACUUM tiles.heat_point")
    for name in [f"heat_cell_{level}" for level in range(HEAT_MIN_LEVEL, HEAT_MAX_LEVEL + 1)]:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(name)))
    conn.execute("DROP TABLE IF EXISTS tiles.heat_profile_new")
    p.explain("heat_point: insert from the view", sql.SQL(
        "INSERT INTO tiles.heat_point (layer, id, x, y, bxmin, bymin, bxmax, bymax, dim_a,"
        " dim_b, w) SELECT {}, f.* FROM ({}) f ORDER BY f.id COLLATE \"C\""
    ).format(lit(LAYER), sql.SQL(FRESH)))  # fmt: skip
    p.timed("heat_point: analyze", "ANALYZE tiles.heat_point")
    if not grid:
        return p.rows
    da = conn.execute(
        "SELECT array_agg(d ORDER BY d COLLATE \"C\") FROM (SELECT DISTINCT dim_a AS d FROM"
        " tiles.heat_point WHERE layer = %s UNION SELECT '') s", (LAYER,)).fetchone()[0]  # type: ignore[index]  # fmt: skip
    db = conn.execute(
        "SELECT array_agg(d ORDER BY d COLLATE \"C\") FROM (SELECT DISTINCT dim_b AS d FROM"
        " tiles.heat_point WHERE layer = %s UNION SELECT '') s", (LAYER,)).fetchone()[0]  # type: ignore[index]  # fmt: skip
    top = HEAT_MAX_LEVEL
    p.explain(f"level {top} from heat_point", sql.SQL(
        "CREATE TEMPORARY TABLE heat_level_{top} AS"
        " SELECT coalesce(a, 1) AS a, {top}::smallint AS level, cy, cx, coalesce(b, 1) AS b,"
        "        count(*)::integer AS n, sum(w) AS w"
        " FROM (SELECT array_position({da}::text[], dim_a) AS a,"
        "              array_position({db}::text[], dim_b) AS b, w,"
        "              tiles.tile_x(x, {top}) AS cx, tiles.tile_y(y, {top}) AS cy"
        "       FROM tiles.heat_point WHERE layer = {layer}) p"
        " GROUP BY GROUPING SETS ((a, cy, cx, b), (cy, cx))"
    ).format(top=sql.SQL(str(top)), da=lit(da), db=lit(db), layer=lit(LAYER)))  # fmt: skip
    for level in range(top - 1, HEAT_MIN_LEVEL - 1, -1):
        p.explain(f"level {level} from level {level + 1}", sql.SQL(
            "CREATE TEMPORARY TABLE heat_level_{lv} AS"
            " SELECT a, {lv}::smallint AS level, cy >> 1 AS cy, cx >> 1 AS cx, b,"
            "        sum(n)::integer AS n, sum(w) AS w"
            " FROM heat_level_{up} GROUP BY a, cy >> 1, cx >> 1, b"
        ).format(lv=sql.SQL(str(level)), up=sql.SQL(str(level + 1))))  # fmt: skip
    parts = sql.SQL(" UNION ALL ").join(
        sql.SQL("SELECT * FROM heat_level_{}").format(sql.SQL(str(level)))
        for level in range(HEAT_MIN_LEVEL, top + 1)
    )
    conn.execute("CREATE TABLE tiles.heat_profile_new (LIKE tiles.heat_cell)")
    p.explain("grid: sorted insert", sql.SQL(
        "INSERT INTO tiles.heat_profile_new (layer, dim_a, level, cy, cx, dim_b, n, w)"
        " SELECT {layer}, ({da}::text[])[a], level, cy, cx, ({db}::text[])[b], n, w"
        " FROM ({parts}) s ORDER BY (a::bigint << 52) | (level::bigint << 47)"
        " | (cy::bigint << 29) | (cx::bigint << 11) | b"
    ).format(layer=lit(LAYER), da=lit(da), db=lit(db), parts=parts))  # fmt: skip
    cells = conn.execute("SELECT count(*) FROM tiles.heat_profile_new").fetchone()[0]  # type: ignore[index]
    p.timed("grid: primary key", "ALTER TABLE tiles.heat_profile_new ADD PRIMARY KEY"
            " (layer, dim_a, level, cy, cx, dim_b)", cells)  # fmt: skip
    p.timed("grid: dim_b index", "CREATE INDEX ON tiles.heat_profile_new"
            " (layer, dim_b, level, cy, cx) WHERE dim_b <> ''", cells)  # fmt: skip
    p.timed("grid: empty-cell index", "CREATE INDEX ON tiles.heat_profile_new (layer)"
            " WHERE n <= 0", cells)  # fmt: skip
    p.timed("grid: analyze", "ANALYZE tiles.heat_profile_new", cells)
    print("  grid rows per level (total rows / dims rows):", flush=True)
    for level, total, dims in conn.execute(
        "SELECT level, count(*) FILTER (WHERE dim_b = ''), count(*) FILTER (WHERE dim_b <> '')"
        " FROM tiles.heat_profile_new GROUP BY level ORDER BY level"
    ):
        print(f"    level {level:>2}: {total:>10,} / {dims:>10,}", flush=True)
    size = conn.execute(
        "SELECT pg_size_pretty(pg_table_size('tiles.heat_profile_new')),"
        " pg_size_pretty(pg_indexes_size('tiles.heat_profile_new'))").fetchone()  # fmt: skip
    print(f"  grid {cells:,} rows: heap {size[0]}, indexes {size[1]}", flush=True)  # type: ignore[index]
    design(conn)
    conn.execute("DROP TABLE tiles.heat_profile_new")
    return p.rows


DENSE = (256, 1024, 4096)
DESIGN = """
WITH t AS (SELECT level, cy, cx, n FROM tiles.heat_profile_new WHERE dim_b = ''),
b AS (SELECT level, cy >> 5 AS by, cx >> 5 AS bx, sum(n) AS n, count(*) AS cells
      FROM t GROUP BY 1, 2, 3)
SELECT level, sum(cells)::bigint, count(*),
       {dense}
FROM b GROUP BY level ORDER BY level
"""


def design(conn: psycopg.Connection) -> None:
    """Rows a packed grid (one row per cell, its dims inside) would hold per level, and
    how many of them lie in dense blocks (a block: the 32 x 32 cells of one tile, the
    cells a heatmap tile reads; dense: at least D points)."""
    dense = ", ".join(
        f"sum(cells) FILTER (WHERE n >= {d})::bigint, count(*) FILTER (WHERE n >= {d})"
        for d in DENSE
    )
    print("  packed cells per level; blocks; cells/blocks in dense blocks for D ="
          f" {', '.join(map(str, DENSE))} points:", flush=True)  # fmt: skip
    totals = [0] * (2 + 2 * len(DENSE))
    for row in conn.execute(DESIGN.format(dense=dense)):
        level, rest = row[0], [int(v or 0) for v in row[1:]]
        totals = [a + b for a, b in zip(totals, rest, strict=True)]
        pairs = "  ".join(f"{rest[2 + 2 * i]:>9,}/{rest[3 + 2 * i]:>6,}" for i in range(len(DENSE)))
        print(f"    level {level:>2}: {rest[0]:>10,} cells {rest[1]:>8,} blocks  {pairs}",
              flush=True)  # fmt: skip
    print(f"    all      {totals[0]:>10,} cells {totals[1]:>8,} blocks  "
          + "  ".join(f"{totals[2 + 2 * i]:>9,}/{totals[3 + 2 * i]:>6,}"
                      for i in range(len(DENSE))), flush=True)  # fmt: skip


def numpy_rounds(conn: psycopg.Connection, rounds: int) -> None:
    """The numpy build `rounds` times: each step's seconds, then the totals' spread."""
    totals: list[float] = []
    for r in range(rounds):
        conn.execute("DROP SCHEMA IF EXISTS proto CASCADE; CREATE SCHEMA proto")
        found = heat_grid_numpy.build(
            conn, LAYER, dense=heat_grid_design.DENSE, fine=heat_grid_design.FINE, write=True
        )
        conn.execute("DROP SCHEMA proto CASCADE")
        print(
            f"  the same grid with numpy (one sort, a roll-up per level, COPY in), round {r + 1}:"
        )
        for name, value in found.items():
            counted = name in heat_grid_numpy.COUNTS
            print(f"    {name:<36} {f'{value:,.0f}' if counted else f'{value:7.2f} s'}")
        totals.append(sum(v for k, v in found.items() if k not in heat_grid_numpy.COUNTS))
        print(f"    total {totals[-1]:.1f} s; load average {os.getloadavg()[0]:.1f}", flush=True)
    print(f"  numpy build: min {min(totals):.1f} / median {statistics.median(totals):.1f}"
          f" / max {max(totals):.1f} s over {rounds} rounds", flush=True)  # fmt: skip


def main(points: int, keep: bool, plans_path: Path | None, prototype: str, rounds: int) -> None:
    with bench_database(f"heat_{points}", keep=keep) as url, \
            psycopg.connect(url, autocommit=True) as conn:  # fmt: skip
        conn.add_notice_handler(lambda _: None)
        have = conn.execute("SELECT to_regclass('bench.point') IS NOT NULL").fetchone()[0]  # type: ignore[index]
        if not (have and conn.execute("SELECT count(*) FROM bench.point").fetchone()[0] == points):  # type: ignore[index]
            print(f"  seeded {points:,} points in {seed(conn, points):.1f} s", flush=True)
        for name in SETTINGS:
            value = conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()[0]  # type: ignore[index]
            print(f"  {name} = {value}", flush=True)
        print(f"  load average {os.getloadavg()[0]:.1f} before", flush=True)
        plans: list[str] = []
        rows = profile(conn, plans, grid=prototype in ("", "also"))
        total = sum(r[1] for r in rows)
        print(f"  total {total:.1f} s; load average {os.getloadavg()[0]:.1f} after", flush=True)
        if prototype in ("also", "only"):
            heat_grid_design.build(conn, LAYER)
            print(f"  load average {os.getloadavg()[0]:.1f} after the prototype", flush=True)
        if prototype:
            numpy_rounds(conn, rounds)
        if plans_path:
            plans_path.write_text("\n\n".join(plans))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("points", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--plans", type=Path)
    parser.add_argument(
        "--prototype",
        choices=("also", "only", "numpy"),
        help="the prototypes too, or only them, or only the numpy one",
    )
    parser.add_argument("--rounds", type=int, default=1, help="rounds of the numpy build")
    args = parser.parse_args()
    main(args.points, args.keep, args.plans, args.prototype or "", args.rounds)
