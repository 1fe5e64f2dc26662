"""Stored `geom_3857` column vs an expression index on `ST_Transform(geom, 3857)`.

The issue leaves the choice open ("measure which"). Both give the tile query a GiST
index in the tile's projection; they differ in what a tile pays per point: the stored
column hands ST_AsMVTGeom a ready EPSG:3857 point, the expression index makes every
matching row re-project its point (PROJ) before encoding, and the index must be
matched by repeating the exact expression. Same tiles, same table, same connection,
an untimed pass of both first (they read the same heap pages), then four rounds
in alternating order; the best round per variant (the machine is shared).
"""

from __future__ import annotations

import time
from typing import Any

import psycopg

BUFFERED = "ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => 64.0 / 4096)"
ENVELOPE = "ST_TileEnvelope(%(z)s, %(x)s, %(y)s)"


def _tile_sql(geom: str) -> str:
    return f"""
        SELECT length(ST_AsMVT(q.*, 'bench', 4096, 'geom')) FROM (
            SELECT v.id, v.service_code, v.state, v.supports,
                   ST_AsMVTGeom({geom}, {ENVELOPE}, 4096, 64, true) AS geom
            FROM bench.point v WHERE {geom} && {BUFFERED}) q
    """


COUNT = f"SELECT count(*) FROM bench.point v WHERE v.geom_3857 && {BUFFERED}"

VARIANTS = {
    "stored geom_3857 column": _tile_sql("v.geom_3857"),
    "expression index ST_Transform(geom, 3857)": _tile_sql("ST_Transform(v.geom, 3857)"),
}


def _best_ms(conn: psycopg.Connection, statement: str, tiles: list[tuple]) -> float:
    started = time.perf_counter()
    for z, x, y in tiles:
        conn.execute(statement, {"z": z, "x": x, "y": y}).fetchone()
    return (time.perf_counter() - started) * 1000 / len(tiles)


def compare(url: str, areas: dict[str, list[tuple]]) -> dict[str, Any]:
    """Build the expression index, time both variants per area, drop it; ms per tile."""
    out: dict[str, Any] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET jit = off")
        # as the tile pool: a parallel worker costs ~20 ms to start here, more than a tile,
        # and the planner's guess differs between the two forms (it tipped one form only)
        conn.execute("SET max_parallel_workers_per_gather = 0")
        conn.execute("SET maintenance_work_mem = '512MB'")
        started = time.perf_counter()
        conn.execute(
            "CREATE INDEX bench_point_expr_3857 ON bench.point"
            " USING gist (ST_Transform(geom, 3857))"
        )
        conn.execute("ANALYZE bench.point")
        out["expression_index_build_s"] = round(time.perf_counter() - started, 1)
        sizes = conn.execute(
            "SELECT pg_relation_size('bench.bench_point_expr_3857'),"
            " pg_relation_size('bench.bench_point_geom_3857'),"
            " pg_column_size(geom_3857) FROM bench.point LIMIT 1"
        ).fetchone()
        assert sizes is not None
        out["expression_index_mb"] = round(sizes[0] / 2**20, 1)
        out["column_index_mb"] = round(sizes[1] / 2**20, 1)
        out["stored_column_bytes_per_row"] = sizes[2]
        for area, tiles in areas.items():
            points = sum(
                conn.execute(COUNT, {"z": z, "x": x, "y": y}).fetchone()[0]  # type: ignore[index]
                for z, x, y in tiles
            )
            out[f"{area}_points_per_tile"] = round(points / len(tiles), 1)
            for statement in VARIANTS.values():  # untimed: both read the same heap pages
                _best_ms(conn, statement, tiles)
            best = {name: float("inf") for name in VARIANTS}
            for i in range(4):  # alternate which goes first
                for name in sorted(VARIANTS, reverse=bool(i % 2)):
                    best[name] = min(best[name], _best_ms(conn, VARIANTS[name], tiles))
            out[area] = best
        plan = conn.execute(
            "EXPLAIN " + VARIANTS["expression index ST_Transform(geom, 3857)"],
            {"z": 14, "x": 8317, "y": 5467},
        ).fetchall()
        out["expression_plan_uses_index"] = any("bench_point_expr_3857" in r[0] for r in plan)
        conn.execute("DROP INDEX bench.bench_point_expr_3857")
    return out
