"""The heat-grid rebuild (`tiles.rebuild_heat`): recomputed, incremental, and the former one.

Usage: python -m bench.heat_rebuild [POINTS] [--rounds N] [--full-rounds N]
                                    [--baseline-max N] [--keep]
(default 1,000,000 points, 3 rounds). With --keep and CARTO_BENCH_DATABASE_URL, the
seeded database is kept and reused by the next run (10 M points take a minute to seed).

Seeds POINTS bench points (bench/tiles/seed.py: 10 % clustered over the MEL, 90 % over
France, six categories by six states, weights), the sparse case: about nine grid rows
per point at 1 M, six at 10 M. Each round times, one after the other on the same database:
- the baseline, the former rebuild (bench/heat_rebuild_baseline.sql): every
  `tiles.heat_point` row rewritten, levels aggregated on text keys, one text-keyed sort
  (up to --baseline-max points: at 10 M it takes many minutes);
- the full recomputation (`tiles.rebuild_heat(layer, true)`) from an empty
  `tiles.heat_point` (a first build), in the first --full-rounds rounds (and once when
  the layer has no grid yet);
- `tiles.rebuild_heat(layer)` with `tiles.heat_point` current (after a restore, whose
  archive holds it and the grid, or a re-run): the comparison finds nothing to write;
- the same after a re-import that changed 1 % of the points behind the triggers' back
  (moves and weights): the differences go through the write path (deltas, one fold).
The grids of the baseline and the recomputation are compared row for row once, and the
incremental grid with a recomputation once. min/median/max per figure.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import psycopg

from bench.common import Figure, Result, bench_database
from bench.tiles.seed import FRANCE_BBOX, INSERT, MEL_BBOX, SCHEMA

LAYER = "bench_points"
BASELINE_SQL = Path(__file__).with_name("heat_rebuild_baseline.sql")
GOAL_S = 60.0  # for 10 M points (issue 22)
DIFF = """
SELECT (SELECT count(*) FROM (SELECT * FROM kept EXCEPT ALL
                              SELECT * FROM tiles.heat_cell WHERE layer = %(l)s) a)
     + (SELECT count(*) FROM (SELECT * FROM tiles.heat_cell WHERE layer = %(l)s
                              EXCEPT ALL SELECT * FROM kept) b)
"""


def seed(conn: psycopg.Connection, points: int) -> float:
    started = time.perf_counter()
    conn.execute("SET max_parallel_workers_per_gather = 0")  # deterministic random()
    conn.execute(SCHEMA)
    conn.execute("SELECT setseed(0.042)")
    mel = points // 10
    for (w, s, e, n), centres, sigma, count, offset in (
        (MEL_BBOX, 40, 0.01, mel, 0),
        (FRANCE_BBOX, 400, 0.05, points - mel, mel),
    ):
        params = {"w": w, "s": s, "e": e, "n": n, "centres": centres, "sigma": sigma,
                  "count": count, "offset": offset}  # fmt: skip
        conn.execute(INSERT, params)
    conn.execute("RESET max_parallel_workers_per_gather")
    conn.execute("VACUUM ANALYZE bench.point")
    return time.perf_counter() - started


def timed(conn: psycopg.Connection, statement: str) -> float:
    started = time.perf_counter()
    conn.execute(statement, {"l": LAYER})
    return time.perf_counter() - started


def figure(result: Result, name: str, runs: list[float], base_name: str | None,
           base: list[float], goal: bool) -> None:  # fmt: skip
    if not runs:
        return
    median = statistics.median(runs)
    met = median <= GOAL_S if goal else None
    result.add(Figure(name, median, "s", base_name if base else None,
                      statistics.median(base) if base else None,
                      goal=f"≤ {GOAL_S:.0f} s" if goal else None, met=met, runs=runs))  # fmt: skip
    line = f"    {name}: min {min(runs):.1f} / median {median:.1f} / max {max(runs):.1f} s"
    if base:
        line += (f"; {base_name} min {min(base):.1f} / median {statistics.median(base):.1f}"
                 f" / max {max(base):.1f} s")  # fmt: skip
    print(line, flush=True)


def report(points: int, runs: dict[str, list[float]], cells: int, seeded: float,
           load_before: float, checked: list[str]) -> Result:  # fmt: skip
    """The figures so far, saved (after every round: a long run interrupted keeps them)."""
    name = "heat_rebuild" if points < 10_000_000 else "heat_rebuild_10m"
    done = len(runs["current"])
    result = Result(name, params={"points": points, "rounds": done})
    goal = points >= 10_000_000
    former = "former rebuild, same run"
    full = "full recomputation, same run"
    if runs["baseline"]:
        base_name, base = former, runs["baseline"]
    else:
        base_name, base = full, runs["full"]
    figure(result, f"heat grid full recomputation, {points:,} points", runs["full"], former,
           runs["baseline"], goal)  # fmt: skip
    figure(result, f"heat grid rebuild, {points:,} points, heat_point current (restore)",
           runs["current"], base_name, base, goal)  # fmt: skip
    figure(result, f"heat grid rebuild, {points:,} points, after a 1 % re-import",
           runs["reimport"], base_name, base, goal)  # fmt: skip
    origin = f"seeded in {seeded:.0f} s" if seeded else "seed kept from an earlier run"
    compared = "; ".join(checked) or "grids not compared"
    result.notes.append(
        f"{points:,} points (10 % MEL, 90 % France), {cells:,} grid rows, {origin}; "
        f"{compared}; {done} rounds; load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after (2 cores shared by eight engineers)"
    )
    print(f"saved {result.save()}", flush=True)
    return result


PARTITION = "SELECT to_regclass('tiles.heat_cell_' || substr(md5(%(l)s), 1, 12))"
REIMPORT = """
UPDATE bench.point SET supports = supports + 1,
    geom = ST_SetSRID(ST_MakePoint(ST_X(geom) + 0.002, ST_Y(geom)), 4326)
WHERE id %% 100 = %(r)s
"""


def same_grid(conn: psycopg.Connection) -> int:
    """Grid rows that differ between the temp table `kept` and the layer's grid."""
    return conn.execute(DIFF, {"l": LAYER}).fetchone()[0]  # type: ignore[index]


def main(points: int, rounds: int, full_rounds: int, baseline_max: int, keep: bool) -> None:
    load_before = os.getloadavg()[0]
    runs: dict[str, list[float]] = {"baseline": [], "full": [], "current": [], "reimport": []}
    checked: list[str] = []
    with bench_database(f"heat_{points}", keep=keep) as url, \
            psycopg.connect(url, autocommit=True) as conn:  # fmt: skip
        conn.add_notice_handler(lambda _: None)
        have = conn.execute("SELECT to_regclass('bench.point') IS NOT NULL").fetchone()[0]  # type: ignore[index]
        if have and conn.execute("SELECT count(*) FROM bench.point").fetchone()[0] == points:  # type: ignore[index]
            seeded = 0.0  # kept from an earlier run
        else:
            seeded = seed(conn, points)
        conn.execute(BASELINE_SQL.read_text())
        for r in range(rounds):
            line = f"  round {r + 1}:"
            if points <= baseline_max:
                runs["baseline"].append(timed(conn, "SELECT tiles.rebuild_heat_baseline(%(l)s)"))
                line += f" baseline {runs['baseline'][-1]:.1f} s,"
                if r == 0:
                    conn.execute("CREATE TEMP TABLE kept AS SELECT * FROM tiles.heat_cell "
                                 "WHERE layer = %(l)s", {"l": LAYER})  # fmt: skip
            no_grid = conn.execute(PARTITION, {"l": LAYER}).fetchone()[0] is None  # type: ignore[index]
            if r < full_rounds or (r == 0 and no_grid):
                conn.execute("DELETE FROM tiles.heat_point WHERE layer = %(l)s", {"l": LAYER})
                conn.execute("VACUUM tiles.heat_point")
                runs["full"].append(timed(conn, "SELECT tiles.rebuild_heat(%(l)s, true)"))
                line += f" full {runs['full'][-1]:.1f} s,"
                if r == 0 and runs["baseline"]:
                    differ = same_grid(conn)
                    assert differ == 0, f"{differ} grid rows differ from the baseline's"
                    checked.append("recomputed grid equal to the former rebuild's row for row")
            runs["current"].append(timed(conn, "SELECT tiles.rebuild_heat(%(l)s)"))
            conn.execute(REIMPORT, {"r": r})
            runs["reimport"].append(timed(conn, "SELECT tiles.rebuild_heat(%(l)s)"))
            print(f"{line} heat_point current {runs['current'][-1]:.1f} s, after a 1 % "
                  f"re-import {runs['reimport'][-1]:.1f} s", flush=True)  # fmt: skip
            if r == 0 and points <= baseline_max:
                conn.execute("DROP TABLE IF EXISTS kept")
                conn.execute("CREATE TEMP TABLE kept AS SELECT * FROM tiles.heat_cell "
                             "WHERE layer = %(l)s", {"l": LAYER})  # fmt: skip
                conn.execute("SELECT tiles.rebuild_heat(%(l)s, true)", {"l": LAYER})
                differ = same_grid(conn)
                assert differ == 0, f"{differ} grid rows differ after the incremental rebuild"
                checked.append("incremental grid equal to a recomputation row for row")
            cells = conn.execute(
                "SELECT count(*) FROM tiles.heat_cell WHERE layer = %(l)s", {"l": LAYER}
            ).fetchone()[0]  # type: ignore[index]
            report(points, runs, cells, seeded, load_before, checked)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("points", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--full-rounds", type=int, default=3)
    parser.add_argument("--baseline-max", type=int, default=2_000_000)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    main(args.points, args.rounds, args.full_rounds, args.baseline_max, args.keep)
