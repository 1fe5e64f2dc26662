"""Layouts of `tiles.heat_point` compared for the "production-like" state (issue 23).

    python -m bench.tiles.layouts --mel 1000000      # ~6 min; bench/results/tiles_layouts.json

One seeded database (dense MEL points) cloned (CREATE DATABASE ... TEMPLATE) into one
database per layout, so that every layout holds the same rows:

- "as loaded": the heap in the order the heat grid's rebuild wrote it (the product);
- "fillfactor 50": half-full pages, so that 1 % of writes leaves fewer rows on pages
  that are no longer all-visible (twice the heap);
- "ordered by z14 tile": the heap rewritten in tile order, so that a dense tile's heap
  fetches fall on a few pages.

Each is vacuumed, then measured (the stored-point tile statement of dense z14 tiles, ms
per tile and heap fetches), then 1 % of its points are written through the layer's
trigger with autovacuum off (bench/tiles/states.py), then measured again. The layouts
are measured in alternating rounds so that all meet the same machine load.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from contextlib import ExitStack

import psycopg
from sqlalchemy.engine import make_url

from bench.common import Figure, Result, bench_database
from bench.tiles.run import sample_tiles
from bench.tiles.seed import seed_points
from bench.tiles.states import autovacuum_off, tile_sql_cost, visibility, write_share

COLUMNS = "layer, id, x, y, bxmin, bymin, bxmax, bymax, dim_a, dim_b, w"


def _fillfactor_50(conn: psycopg.Connection) -> None:
    conn.execute("ALTER TABLE tiles.heat_point SET (fillfactor = 50)")
    conn.execute("VACUUM FULL tiles.heat_point")


def _tile_order(conn: psycopg.Connection) -> None:
    with conn.transaction():
        conn.execute(f"CREATE TEMP TABLE sorted AS SELECT {COLUMNS} FROM tiles.heat_point")
        conn.execute("TRUNCATE tiles.heat_point")
        conn.execute(
            f"INSERT INTO tiles.heat_point ({COLUMNS}) SELECT {COLUMNS} FROM sorted"
            " ORDER BY layer, tiles.tile_y(y, 14), tiles.tile_x(x, 14), y, x"
        )
    conn.execute("REINDEX TABLE tiles.heat_point")  # bulk-built, as the others' indexes


LAYOUTS: dict[str, Callable[[psycopg.Connection], None] | None] = {
    "as loaded": None,
    "fillfactor 50": _fillfactor_50,
    "ordered by z14 tile": _tile_order,
}


def _sibling(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def measure(args: argparse.Namespace) -> Result:
    result = Result(args.name)
    result.params.update(mel_points=args.mel, rounds=args.rounds, write_share=args.write_share)
    with bench_database(args.name) as first, ExitStack() as stack:
        seed_points(first, mel=args.mel, france=0, seed=args.seed)
        tiles = sample_tiles(first, 14, 60, random.Random(args.seed), range(1, args.mel + 1))
        base = make_url(first).database
        urls = {}
        with psycopg.connect(_sibling(first, "postgres"), autocommit=True) as admin:
            for i, name in enumerate(LAYOUTS):
                db = f"{base}_l{i}"
                admin.execute(f'CREATE DATABASE "{db}" TEMPLATE "{base}"')
                stack.callback(_drop, _sibling(first, "postgres"), db)
                urls[name] = _sibling(first, db)
        for name, layout in LAYOUTS.items():
            with psycopg.connect(urls[name], autocommit=True) as conn:
                if layout is not None:
                    layout(conn)
                conn.execute("VACUUM (ANALYZE) tiles.heat_point")
        vacuumed = interleaved(urls, tiles, args.rounds)
        for name, url in urls.items():
            stack.enter_context(autovacuum_off(url))
            started = time.perf_counter()
            result.params.setdefault("writes", {})[name] = write_share(
                url, share=args.write_share, seed=args.seed
            )
            result.params["writes"][name]["seconds"] = round(time.perf_counter() - started, 1)
            result.params.setdefault("visibility", {})[name] = visibility(url)
        production = interleaved(urls, tiles, args.rounds)
    for name in LAYOUTS:
        for state, found in (("vacuumed", vacuumed), ("production-like", production)):
            cost, ref = found[name], production["as loaded"]
            result.add(cost_figure(f"z14_mel stored tile SQL, {name}, {state}", cost,
                                   "as loaded, production-like", ref, state))  # fmt: skip
    result.params["tile_sql"] = {"vacuumed": vacuumed, "production-like": production}
    return result


def cost_figure(name: str, cost: dict, base_name: str, base: dict, state: str) -> Figure:
    """The backend's CPU per tile (wall time moves with the machine's other work)."""
    return Figure(
        name, cost["cpu_ms_median"], "CPU ms/tile", base_name, base["cpu_ms_median"],
        runs=cost["cpu_ms_rounds"], baseline_runs=base["cpu_ms_rounds"],
        conditions=f"{state}; {cost['heap_fetches']:.0f} heap fetches and "
        f"{cost['buffers']:.0f} buffers per tile; wall {cost['ms_median']:.2f} ms/tile",
    )  # fmt: skip


def interleaved(urls: dict[str, str], tiles: list[tuple], rounds: int) -> dict[str, dict]:
    """Each layout's tile SQL cost, one round of each in turn."""
    found: dict[str, dict] = {name: {"ms_rounds": [], "cpu_ms_rounds": []} for name in urls}
    for _ in range(rounds):
        for name, url in urls.items():
            cost = tile_sql_cost(url, tiles, rounds=1)
            found[name]["ms_rounds"] += cost["ms_rounds"]
            found[name]["cpu_ms_rounds"] += cost["cpu_ms_rounds"]
            found[name].update(heap_fetches=cost["heap_fetches"], buffers=cost["buffers"])
    for cost in found.values():
        cost["ms_median"] = statistics.median(cost["ms_rounds"])
        cost["cpu_ms_median"] = statistics.median(cost["cpu_ms_rounds"])
    return found


def _drop(server: str, database: str) -> None:
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mel", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--write-share", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--name", default="tiles_layouts")
    args = parser.parse_args(argv)
    path = measure(args).save()
    print(f"Saved {path}")


if __name__ == "__main__":
    main()
