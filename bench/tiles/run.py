"""Tiles benchmark: Carto's tile server against tipg 1.6.1 on the same table, same run.

    .venv/bin/python -m bench.tiles.run                  # 1 M MEL + 1 M France, ~5 min
    .venv/bin/python -m bench.tiles.run --france 10000000 --name tiles_10m
    .venv/bin/python -m bench.tiles.run --database URL   # an already seeded database

Seeds a bench table (points clustered around centres, over the MEL and over France,
seeded), gives it a primary key and GiST indexes (EPSG:4326 for tipg, stored
EPSG:3857 for Carto), builds Carto's heat grid, then serves it with tipg
(TIPG_DB_SPATIAL_EXTENT=false) and with the app (2 uvicorn workers each) and
drives both with wrk cycling a seeded list of tiles, in alternating rounds (tipg,
Carto, tipg, ...; the median round counts) so that both meet the same machine load:

- z14 tiles/s (8 connections), over the dense MEL and over France, cold (Carto's
  tile cache off: every tile rendered, as tipg does) and warm (cache on, primed);
  cold also through the same app reading the view with ST_AsMVT, and through the
  FastAPI route instead of the lean tile path (carto/tiles/lean.py), as baselines;
- z8 tile latency p95 (one connection);
- heatmap tile latency p95 per zoom z0..z14 (one connection), and µs per heat cell;
- cached tile latency p50 through the app;
- the stored `geom_3857` column against an expression index (bench/tiles/index_compare.py),
  and the PostGIS cost per point of a dense tile.

Prints the table, writes bench/results/<name>.json. Loopback only, bounded in time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from bench.common import Result, bench_database
from bench.servers import free_port, stop, wait_ready
from bench.tiles.index_compare import compare as compare_indexes
from bench.tiles.report import PRODUCTION, VACUUMED, report
from bench.tiles.seed import seed_points
from bench.tiles.states import (
    WRITTEN,
    autovacuum_off,
    layout_options,
    tile_sql_cost,
    visibility,
    write_share,
)
from carto.tiles.grid import mercator_tms

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TIPG_COLLECTION = "bench.point"
TIPG_PROPS = "properties=id,service_code,state,supports"


def wrk(base: str, paths: list[str], *, connections: int, seconds: float) -> dict[str, float]:
    """Run wrk cycling `paths` against `base`; requests/s and latency percentiles (ms)."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
        fh.write("\n".join(paths) + "\n")
        listing = fh.name
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
             "-s", str(HERE / "cycle.lua"), base],
            env={**os.environ, "WRK_PATHS": listing},
            capture_output=True, text=True, timeout=seconds + 60,
        )  # fmt: skip
    finally:
        os.unlink(listing)
    if out.returncode != 0:
        raise RuntimeError(f"wrk failed on {base}{paths[0]}: {out.stdout} {out.stderr}")
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    return {
        "rps": summary["requests"] / (summary["duration_us"] / 1e6),
        "p50": summary["p50_us"] / 1000,
        "p95": summary["p95_us"] / 1000,
        "p99": summary["p99_us"] / 1000,
        "requests": summary["requests"],
        "errors": summary["non_2xx"] + summary["socket_errors"],
    }


def _spawn(cmd: list[str], env: dict[str, str], ready: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    wait_ready(ready, proc, timeout=120)
    return proc


@contextmanager
def tipg_server(url: str, workers: int) -> Iterator[str]:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CARTO_", "TIPG_"))},
        "DATABASE_URL": url,
        "TIPG_DB_SCHEMAS": '["bench"]',
        "TIPG_DB_TABLES": f'["{TIPG_COLLECTION}"]',
        "TIPG_DB_SPATIAL_EXTENT": "false",
        "TIPG_DB_DATETIME_EXTENT": "false",
    }
    cmd = [sys.executable, "-m", "uvicorn", "tipg.main:app", "--port", str(port),
           "--workers", str(workers), "--log-level", "warning", "--no-access-log"]  # fmt: skip
    proc = _spawn(cmd, env, f"http://127.0.0.1:{port}/collections/{TIPG_COLLECTION}")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


@contextmanager
def carto_server(
    url: str, workers: int, *, cache: bool, extra_env: dict[str, str] | None = None
) -> Iterator[str]:
    """The tile app under uvicorn; `extra_env` adds settings (e.g. a read replica)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARTO_")}
    env.update(
        CARTO_DATABASE_URL=url, CARTO_RATE_LIMITS="off", CARTO_LOG_LEVEL="WARNING",
        CARTO_SECRET_KEY="bench-secret-key-" + "x" * 32, CARTO_NOTIFICATIONS_WORKER="false",
        CARTO_TILE_CACHE="true" if cache else "false", CARTO_TILE_CACHE_MIN_MS="0",
    )  # fmt: skip
    env.update(extra_env or {})
    cmd = [sys.executable, "-m", "uvicorn", "bench.tiles.serve:app", "--factory",
           "--port", str(port), "--workers", str(workers), "--log-level", "warning",
           "--no-access-log"]  # fmt: skip
    proc = _spawn(cmd, env, f"http://127.0.0.1:{port}/healthz")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


def sample_tiles(url: str, zoom: int, count: int, rnd: random.Random, ids: range) -> list[tuple]:
    """Tiles at `zoom` under randomly chosen points (seeded): where the data are."""
    picks = sorted(rnd.sample(ids, min(count * 3, len(ids))))
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT ST_X(geom), ST_Y(geom) FROM bench.point WHERE id = ANY(%s)", (picks,)
        ).fetchall()
    tms = mercator_tms()
    tiles = list(dict.fromkeys(tms.tile(lon, lat, zoom) for lon, lat in rows))
    rnd.shuffle(tiles)
    return [(t.z, t.x, t.y) for t in tiles[:count]]


def carto_paths(tiles: list[tuple]) -> list[str]:
    return [f"/tiles/bench_points/{z}/{x}/{y}.mvt" for z, x, y in tiles]


def tipg_paths(tiles: list[tuple]) -> list[str]:
    return [
        f"/collections/{TIPG_COLLECTION}/tiles/WebMercatorQuad/{z}/{x}/{y}?{TIPG_PROPS}"
        for z, x, y in tiles
    ]


def heat_paths(tiles: list[tuple]) -> list[str]:
    return [f"/tiles/heatmap/bench_points/{z}/{x}/{y}.png" for z, x, y in tiles]


def warm(base: str, paths: list[str]) -> None:
    """One pass (statistics of each zoom computed, caches and plans warm)."""
    import httpx

    with httpx.Client(base_url=base, timeout=120) as client:
        for path in paths:
            client.get(path)


@contextmanager
def seeded(args: argparse.Namespace, result: Result) -> Iterator[str]:
    """The database to measure: `--database` as it is (migrated), or a fresh seeded one."""
    if args.database:
        from carto.runtime import upgrade

        upgrade(args.database)
        result.params["seed_seconds"] = "reused database (seeded by an earlier run)"
        yield args.database
        return
    with bench_database(args.name) as url:
        timings = seed_points(url, mel=args.mel, france=args.france, seed=args.seed)
        for step, seconds in timings.items():
            print(f"  seed {step}: {seconds:.1f} s", flush=True)
        result.params["seed_seconds"] = {k: round(v, 1) for k, v in timings.items()}
        yield url


def tile_lists(url: str, args: argparse.Namespace) -> dict[str, list[tuple]]:
    rnd = random.Random(args.seed)
    mel_ids = range(1, args.mel + 1)
    fr_ids = range(args.mel + 1, args.mel + args.france + 1) if args.france else mel_ids
    lists = {
        "z14_mel": sample_tiles(url, 14, 400, rnd, mel_ids),
        "z14_france": sample_tiles(url, 14, 400, rnd, fr_ids),
        "z8": sample_tiles(url, 8, 60, rnd, fr_ids) + sample_tiles(url, 8, 5, rnd, mel_ids),
    }
    for z in range(15):
        lists[f"heat{z}"] = sample_tiles(url, z, 40, rnd, mel_ids if z > 9 else fr_ids)
    return lists


def median_run(runs: list[dict[str, float]]) -> dict[str, Any]:
    """The round with the median throughput (its latencies too), and every round's rps and
    p95 (in round order: round i of every server ran back to back)."""
    ordered = sorted(runs, key=lambda r: r["rps"])
    return {
        **ordered[len(ordered) // 2],
        "rounds_rps": [round(r["rps"], 1) for r in runs],
        "rounds_p95": [round(r["p95"], 3) for r in runs],
    }


def compare_servers(servers: dict[str, str], t: dict[str, list[tuple]], args: argparse.Namespace):
    """The servers in alternating rounds (tipg, Carto, ...), so all see the same machine load."""
    runs: dict[str, dict] = {name: {} for name in servers}
    for key, connections in (("z14_mel", 8), ("z14_france", 8), ("z8", 1)):
        rounds: dict[str, list[dict[str, float]]] = {name: [] for name in servers}
        for _ in range(args.rounds):
            for name, base in servers.items():
                paths = tipg_paths(t[key]) if name == "tipg" else carto_paths(t[key])
                rounds[name].append(wrk(base, paths, connections=connections, seconds=args.seconds))
        for name in rounds:
            runs[name][key] = median_run(rounds[name])
    return runs


def run_servers(url: str, t: dict[str, list[tuple]], args: argparse.Namespace) -> dict:
    """Every server in alternating rounds on the database as it is now (one table state)."""
    secs = args.seconds
    # Carto three times: point tiles from tiles.heat_point encoded by the numba encoder, served by
    # the lean ASGI path (the product); the same app reading the view through ST_AsMVT
    # (CARTO_BENCH_STORED=0); the product with the FastAPI route answering every tile
    # (CARTO_BENCH_LEAN=0, carto/tiles/lean.py says why). The last two are baselines.
    asmvt_env = {"CARTO_BENCH_STORED": "0"}
    with (
        tipg_server(url, args.workers) as tipg,
        carto_server(url, args.workers, cache=False) as app,
        carto_server(url, args.workers, cache=False, extra_env=asmvt_env) as asmvt,
        carto_server(url, args.workers, cache=False, extra_env={"CARTO_BENCH_LEAN": "0"}) as route,
    ):
        some = t["z8"][:5] + t["z14_mel"][:20] + t["z14_france"][:20]
        warm(tipg, tipg_paths(some))
        all_heat = [p for z in range(15) for p in heat_paths(t[f"heat{z}"])]
        warm(app, carto_paths(some) + all_heat)
        warm(asmvt, carto_paths(some))
        warm(route, carto_paths(some))
        servers = {"tipg": tipg, "carto": app, "carto_asmvt": asmvt, "carto_route": route}
        runs = compare_servers(servers, t, args)
        runs["heat"] = {
            f"z{z}": wrk(app, heat_paths(t[f"heat{z}"]), connections=1, seconds=args.heat_seconds)
            for z in range(15)
        }
    with carto_server(url, args.workers, cache=True) as app:
        warm(app, carto_paths(t["z14_mel"] + t["z14_france"]))
        runs["cached"] = {
            "z14_mel_p50": wrk(app, carto_paths(t["z14_mel"]), connections=1, seconds=secs),
            "z14_mel": wrk(app, carto_paths(t["z14_mel"]), connections=8, seconds=secs),
            "z14_france": wrk(app, carto_paths(t["z14_france"]), connections=8, seconds=secs),
        }
    return runs


def measure(args: argparse.Namespace) -> Result:
    result = Result(args.name)
    result.params = {
        "mel_points": args.mel,
        "france_points": args.france,
        "seconds_per_run": args.seconds,
        "rounds": args.rounds,
        "workers_each": args.workers,
        "tipg": "1.6.1",
        "load_average_before": [round(v, 2) for v in os.getloadavg()],
    }
    print(f"Tiles benchmark: {args.mel:,} points over the MEL + {args.france:,} over France")
    runs: dict[str, dict] = {}
    with seeded(args, result) as url:
        tiles = tile_lists(url, args)
        dense = tiles["z14_mel"][:60]
        result.params["states"] = {VACUUMED: {"heat_point": visibility(url)}}
        print(f"  state {VACUUMED}: {result.params['states'][VACUUMED]}", flush=True)
        result.params["tile_sql"] = {VACUUMED: tile_sql_cost(url, dense)}
        runs[VACUUMED] = run_servers(url, tiles, args)
        areas = {"z14_mel": dense, "z14_france": tiles["z14_france"][:200]}
        print("  stored column vs expression index ...", flush=True)
        result.params["index_compare"] = compare_indexes(url, areas)
        with autovacuum_off(url):
            writes = write_share(url, share=args.write_share, seed=args.seed)
            state = {"writes": writes, "heat_point": visibility(url)}
            result.params["states"][PRODUCTION] = state
            print(f"  state {PRODUCTION}: {state}", flush=True)
            result.params["tile_sql"][PRODUCTION] = tile_sql_cost(url, dense)
            runs[PRODUCTION] = run_servers(url, tiles, args)
            result.params["tile_sql"].update(layout_options(url, dense))
    result.notes.append(
        f"{PRODUCTION}: the vacuumed database after {args.write_share:.0%} of its points were "
        "inserted, updated or deleted through the layer's row trigger (the report write path) "
        f"and the heat deltas folded: {writes}; autovacuum was off on {', '.join(WRITTEN)} "
        "(ALTER TABLE ... SET (autovacuum_enabled = false)) from before the writes to the end "
        "of the measurement, and restored after it"
    )
    result.params["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
    load = max(result.params["load_average_before"][0], result.params["load_average_after"][0])
    if load > (os.cpu_count() or 1):
        result.notes.append(
            f"load average {load:.1f} on {os.cpu_count()} cores (other work on the machine): "
            "absolute times are pessimistic; ratios to tipg come from alternating rounds"
        )
    report(result, runs)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mel", type=int, default=1_000_000)
    parser.add_argument("--france", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3, help="alternating tipg/Carto rounds")
    parser.add_argument("--heat-seconds", type=float, default=2.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--name", default="tiles", help="result file: bench/results/NAME.json")
    parser.add_argument("--database", help="measure an already seeded database (same sizes)")
    parser.add_argument(
        "--write-share", type=float, default=0.01, help="points written for production-like"
    )
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed (apt-get install wrk; scripts/install-system.sh installs it)")
    started = time.monotonic()
    result = measure(args)
    result.params["total_seconds"] = round(time.monotonic() - started, 1)
    path = result.save()
    print(f"\nSaved {path} ({result.params['total_seconds']} s in all)")


if __name__ == "__main__":
    main()
