"""The two table states the tile benchmark measures, on the same database in one run.

- "vacuumed": just seeded, then VACUUM (ANALYZE), as every bulk load now ends
  (carto/tiles/maintenance.py): every page of `tiles.heat_point` all-visible.
- "production-like": the same database after 1 % of its points were inserted, updated
  or deleted through the write path the app uses (the layer's row trigger, compiled by
  `tiles.attach_point_layer`, writes `tiles.heat_point`, the heat deltas, the write log
  and the cache invalidation in the writer's transaction, as for a report), the heat
  deltas folded as the worker does, and nothing vacuumed. Autovacuum is switched off on
  the written tables (`autovacuum_enabled = false`) from before the writes until the
  measurement ends, then their settings are restored.
"""

from __future__ import annotations

import os
import random
import re
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

# The tables the writes touch: autovacuum off on them while "production-like" is measured.
WRITTEN = ("bench.point", "tiles.heat_point", "tiles.heat_delta", "tiles.write_log")
BATCH = 200  # rows per statement (one transaction each), as concurrent writers would commit
# Shares of the 1 %: new reports, state changes (a new dim_b), deletions.
MIX = {"insert": 0.5, "update": 0.4, "delete": 0.1}

INSERT_NEAR = """
INSERT INTO bench.point (id, service_code, state, supports, created_at, geom)
SELECT n.new_id, p.service_code, 'new', 0, now(),
       ST_SetSRID(ST_MakePoint(ST_X(p.geom) + (random() - 0.5) * 0.002,
                               ST_Y(p.geom) + (random() - 0.5) * 0.002), 4326)
FROM unnest(%s::bigint[], %s::bigint[]) AS n(new_id, near_id)
JOIN bench.point p ON p.id = n.near_id
"""
UPDATE_STATE = """
UPDATE bench.point SET state = CASE state WHEN 'new' THEN 'acknowledged'
                                          WHEN 'acknowledged' THEN 'in_progress'
                                          ELSE 'resolved' END,
                       supports = supports + 1
WHERE id = ANY(%s)
"""
DELETE = "DELETE FROM bench.point WHERE id = ANY(%s)"


def visibility(url: str) -> dict[str, Any]:
    """Pages of tiles.heat_point all-visible (pg_visibility), its last vacuum, its rows."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_visibility")
        pages, visible = conn.execute(
            "SELECT pg_relation_size('tiles.heat_point') / current_setting('block_size')::int,"
            " (pg_visibility_map_summary('tiles.heat_point')).all_visible"
        ).fetchone()  # type: ignore[misc]
        row = conn.execute(
            "SELECT n_live_tup, n_dead_tup, last_vacuum, last_autovacuum FROM pg_stat_user_tables"
            " WHERE relid = 'tiles.heat_point'::regclass"
        ).fetchone()
    assert row is not None
    return {
        "pages": int(pages),
        "all_visible_pages": int(visible),
        "all_visible_share": round(visible / max(pages, 1), 4),
        "live_rows": row[0],
        "dead_rows": row[1],
        "last_vacuum": str(row[2]) if row[2] else None,
        "last_autovacuum": str(row[3]) if row[3] else None,
    }


def _reloptions(conn: psycopg.Connection, table: str) -> list[str]:
    found = conn.execute(
        "SELECT coalesce(reloptions, '{}') FROM pg_class WHERE oid = %s::regclass", (table,)
    ).fetchone()
    assert found is not None
    return list(found[0])


@contextmanager
def autovacuum_off(url: str) -> Iterator[None]:
    """Autovacuum off on the written tables for the block; their settings restored after."""
    with psycopg.connect(url, autocommit=True) as conn:
        kept = {table: _reloptions(conn, table) for table in WRITTEN}
        for table in WRITTEN:
            conn.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
    try:
        yield
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            for table, options in kept.items():
                if any(o.startswith("autovacuum_enabled=") for o in options):
                    value = next(o for o in options if o.startswith("autovacuum_enabled="))
                    conn.execute(f"ALTER TABLE {table} SET ({value.replace('=', ' = ')})")
                else:
                    conn.execute(f"ALTER TABLE {table} RESET (autovacuum_enabled)")


def write_share(url: str, *, share: float, seed: int) -> dict[str, Any]:
    """Insert, update and delete `share` of bench.point's rows through the layer's trigger."""
    rnd = random.Random(seed)
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT tiles.attach_point_layer('bench_points', 'bench.point', 'id')")
        total, top = conn.execute("SELECT count(*), max(id) FROM bench.point").fetchone()  # type: ignore[misc]
        writes = max(1, round(total * share))
        counts = {kind: round(writes * part) for kind, part in MIX.items()}
        picked = rnd.sample(range(1, top + 1), counts["update"] + counts["delete"])
        updates, deletes = picked[: counts["update"]], picked[counts["update"] :]
        near = [rnd.randint(1, top) for _ in range(counts["insert"])]
        new_ids = list(range(top + 1, top + 1 + counts["insert"]))
        # Interleaved batches, as the three kinds of writes arrive mixed in production.
        jobs: list[tuple[str, tuple[Any, ...]]] = []
        for i in range(0, max(len(near), len(updates), len(deletes)), BATCH):
            if near[i : i + BATCH]:
                jobs.append((INSERT_NEAR, (new_ids[i : i + BATCH], near[i : i + BATCH])))
            if updates[i : i + BATCH]:
                jobs.append((UPDATE_STATE, (updates[i : i + BATCH],)))
            if deletes[i : i + BATCH]:
                jobs.append((DELETE, (deletes[i : i + BATCH],)))
        for statement, params in jobs:
            conn.execute(statement, params)
        write_seconds = time.perf_counter() - started
        while conn.execute("SELECT tiles.fold_heat()").fetchone()[0]:  # type: ignore[index]
            pass  # the worker's fold, until no delta is left
    return {**counts, "write_seconds": round(write_seconds, 1)}


def _stored_sql() -> str:
    """The product's stored-point tile statement for the bench layer, in psycopg's style."""
    from bench.tiles.serve import BENCH_LAYER
    from carto.tiles.filters import TileFilters
    from carto.tiles.sql import stored_point_sql

    statement, _ = stored_point_sql(BENCH_LAYER, TileFilters())
    return re.sub(r"(?<!:):(\w+)", r"%(\1)s", statement)


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a local backend (/proc): unlike wall time, barely moved by the
    other work on a shared machine."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None  # a remote server
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _plan_counts(plan: dict[str, Any]) -> tuple[int, int]:
    """(heap fetches, shared buffers hit or read) of a plan tree."""
    fetches = int(plan.get("Heap Fetches", 0))
    for child in plan.get("Plans", []):
        fetches += _plan_counts(child)[0]
    return fetches, int(plan.get("Shared Hit Blocks", 0)) + int(plan.get("Shared Read Blocks", 0))


def tile_sql_cost(url: str, tiles: list[tuple], rounds: int = 3) -> dict[str, Any]:
    """The stored-point statement on dense tiles, after a warm pass: wall ms per tile (median
    per round), the backend's CPU ms per tile (per round: passes over every tile until
    0.5 s of CPU, for the clock tick), heap fetches and buffers per tile (EXPLAIN)."""
    statement = _stored_sql()
    params = [{"z": z, "x": x, "y": y} for z, x, y in tiles]
    with psycopg.connect(url, autocommit=True) as conn:
        pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]  # type: ignore[index]
        for p in params:
            conn.execute(statement, p).fetchall()
        per_round, cpu_rounds = [], []
        for _ in range(rounds):
            times, passes, cpu0 = [], 0, _cpu_seconds(pid)
            while True:
                for p in params:
                    started = time.perf_counter()
                    conn.execute(statement, p).fetchall()
                    times.append((time.perf_counter() - started) * 1000)
                passes += 1
                cpu = _cpu_seconds(pid)
                if cpu is None or cpu0 is None or cpu - cpu0 >= 0.5 or passes >= 20:
                    break
            per_round.append(round(statistics.median(times), 3))
            if cpu is not None and cpu0 is not None:
                cpu_rounds.append(round((cpu - cpu0) * 1000 / (passes * len(params)), 3))
        plans = [
            conn.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, p)
            .fetchone()[0][0]["Plan"]  # type: ignore[index]
            for p in params[:10]
        ]  # fmt: skip
    counts = [_plan_counts(plan) for plan in plans]
    return {
        "ms_rounds": per_round,
        "ms_median": statistics.median(per_round),
        "cpu_ms_rounds": cpu_rounds,
        "cpu_ms_median": statistics.median(cpu_rounds) if cpu_rounds else None,
        "heap_fetches": statistics.mean(c[0] for c in counts),
        "buffers": statistics.mean(c[1] for c in counts),
    }


def layout_options(url: str, tiles: list[tuple]) -> dict[str, dict[str, Any]]:
    """What the production-like state costs once vacuumed (what e001's autovacuum settings
    bring back after a small share of writes), measured last: it changes the state."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM tiles.heat_point")
    return {"production-like, then VACUUM (autovacuum's catch-up)": tile_sql_cost(url, tiles)}
