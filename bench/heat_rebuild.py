"""The heat-grid rebuild (`tiles.rebuild_heat`), set-based, against the former one.

Usage: python -m bench.heat_rebuild [POINTS] [--rounds N]   (default 1,000,000, 3 rounds)

Seeds POINTS bench points (bench/tiles/seed.py: 10 % clustered over the MEL, 90 % over
France, six categories by six states, weights), the sparse case: about nine grid rows
per point. Each round times, one after the other on the same database:
- the baseline, the former rebuild (bench/heat_rebuild_baseline.sql): every
  `tiles.heat_point` row rewritten, levels aggregated on text keys, one text-keyed sort;
- the set-based rebuild from an empty `tiles.heat_point` (a first build, a re-import);
- the set-based rebuild with `tiles.heat_point` already current (after a restore, whose
  archive holds it, or a re-run): only the grid is rewritten.
The grids of both rebuilds are compared row for row once. min/median/max per figure.
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


def figure(result: Result, name: str, runs: list[float], base_name: str, base: list[float],
           goal: bool) -> None:  # fmt: skip
    median = statistics.median(runs)
    met = median <= GOAL_S if goal else None
    result.add(Figure(name, median, "s", base_name, statistics.median(base),
                      goal=f"≤ {GOAL_S:.0f} s" if goal else None, met=met, runs=runs))  # fmt: skip
    print(f"    runs min {min(runs):.1f} / median {median:.1f} / max {max(runs):.1f} s; "
          f"baseline min {min(base):.1f} / median {statistics.median(base):.1f} / "
          f"max {max(base):.1f} s", flush=True)  # fmt: skip


def report(points: int, runs: dict[str, list[float]], cells: int, seeded: float,
           load_before: float) -> Result:  # fmt: skip
    """The figures so far, saved (after every round: a long run interrupted keeps them)."""
    name = "heat_rebuild" if points < 10_000_000 else "heat_rebuild_10m"
    done = len(runs["current"])
    result = Result(name, params={"points": points, "rounds": done})
    goal = points >= 10_000_000
    base_name = "former rebuild, same run"
    figure(result, f"heat grid rebuild, {points:,} points", runs["full"], base_name,
           runs["baseline"], goal)  # fmt: skip
    figure(result, f"heat grid rebuild, {points:,} points, heat_point current (restore)",
           runs["current"], base_name, runs["baseline"], goal)  # fmt: skip
    result.notes.append(
        f"{points:,} points (10 % MEL, 90 % France), {cells:,} grid rows, seeded in "
        f"{seeded:.0f} s; grids equal row for row; {done} rounds; load average "
        f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after (2 cores shared by "
        "eight engineers)"
    )
    print(f"saved {result.save()}", flush=True)
    return result


def main(points: int, rounds: int) -> None:
    load_before = os.getloadavg()[0]
    runs: dict[str, list[float]] = {"baseline": [], "full": [], "current": []}
    with bench_database("heat") as url, psycopg.connect(url, autocommit=True) as conn:
        conn.add_notice_handler(lambda _: None)
        seeded = seed(conn, points)
        conn.execute(BASELINE_SQL.read_text())
        for r in range(rounds):
            runs["baseline"].append(timed(conn, "SELECT tiles.rebuild_heat_baseline(%(l)s)"))
            if r == 0:
                conn.execute("CREATE TEMP TABLE kept AS SELECT * FROM tiles.heat_cell "
                             "WHERE layer = %(l)s", {"l": LAYER})  # fmt: skip
            conn.execute("DELETE FROM tiles.heat_point WHERE layer = %(l)s", {"l": LAYER})
            conn.execute("VACUUM tiles.heat_point")
            runs["full"].append(timed(conn, "SELECT tiles.rebuild_heat(%(l)s)"))
            runs["current"].append(timed(conn, "SELECT tiles.rebuild_heat(%(l)s)"))
            if r == 0:
                differ = conn.execute(DIFF, {"l": LAYER}).fetchone()[0]  # type: ignore[index]
                assert differ == 0, f"{differ} grid rows differ from the baseline's"
            print(f"  round {r + 1}: baseline {runs['baseline'][-1]:.1f} s, set-based "
                  f"{runs['full'][-1]:.1f} s, with heat_point current "
                  f"{runs['current'][-1]:.1f} s", flush=True)  # fmt: skip
            cells = conn.execute(
                "SELECT count(*) FROM tiles.heat_cell WHERE layer = %(l)s", {"l": LAYER}
            ).fetchone()[0]  # type: ignore[index]
            report(points, runs, cells, seeded, load_before)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("points", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    main(args.points, args.rounds)
