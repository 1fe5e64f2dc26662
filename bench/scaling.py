"""Read replica for tiles: what reading from a streaming replica costs, cache fill included.

One embedded primary (fsync on) with seeded points over the MEL, a streaming replica
of it (`EmbeddedCluster.create_replica`), and the app served by uvicorn against the
primary alone (the baseline) or with `CARTO_READ_DATABASE_URL` on the replica. For each,
wrk cycles the same seeded z16 tiles (more distinct tiles than a 5 s run asks for,
so a cold run is cold throughout): rendering only (cache off), a cold cache (every
tile rendered, then stored: on the primary, whoever rendered it) and a warm cache.
Both servers share this machine's cores, so the figures show the replica path's
overhead, not added capacity (a replica on its own host adds its cores).

    .venv/bin/python -m bench.scaling [--points 300000] [--seconds 5] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from bench.common import Figure, Result
from bench.tiles.run import carto_paths, carto_server, sample_tiles, warm, wrk
from bench.tiles.seed import seed_points
from carto.embedded import EmbeddedCluster
from carto.runtime import upgrade


@contextmanager
def primary_and_replica(points: int) -> Iterator[tuple[str, str]]:
    root = Path(tempfile.mkdtemp(prefix="carto-scaling-"))
    root.chmod(0o755)
    primary = EmbeddedCluster(root / "primary")
    primary.ensure_started()
    replica = None
    try:
        url = primary.url()
        upgrade(url)
        seed_points(url, mel=points, france=0, seed=7)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE bench.point")
        replica = primary.create_replica(root / "replica")
        state = replica.read_state()
        assert state is not None
        yield url, url.replace(f":{primary.read_state().port}/", f":{state.port}/")  # type: ignore[union-attr]
    finally:
        if replica is not None:
            replica.stop()
        primary.stop()
        shutil.rmtree(root, ignore_errors=True)


def replica_env(read_url: str | None) -> dict[str, str]:
    """Reads from the replica when given; lag tolerated so a busy run never falls back."""
    env = {"CARTO_READ_MAX_LAG_S": "60"}
    if read_url:
        env["CARTO_READ_DATABASE_URL"] = read_url
    return env


def cached_tiles(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM tiles.tile_cache").fetchone()
    return int(row[0]) if row else 0


def clear_cache(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DELETE FROM tiles.tile_cache")


def measure(args: argparse.Namespace) -> Result:
    result = Result("scaling", params=vars(args))
    with primary_and_replica(args.points) as (url, replica_url):
        rnd = random.Random(7)
        tiles = sample_tiles(url, args.zoom, args.tiles, rnd, range(1, args.points + 1))
        paths = carto_paths(tiles)
        result.params["distinct_tiles"] = len(paths)
        runs: dict[str, list[dict[str, float]]] = {}
        for where, read_url in (("primary", None), ("replica", replica_url)):
            for mode in ("render", "cold", "warm"):
                key = f"{mode} {where}"
                settings = replica_env(read_url)
                with carto_server(url, 1, cache=mode != "render", extra_env=settings) as base:
                    warm(base, paths[:50])  # plans, pools and the heat statistics
                    for _ in range(args.runs):
                        if mode != "warm":
                            clear_cache(url)
                        else:
                            warm(base, paths)
                        run = wrk(base, paths, connections=8, seconds=args.seconds)
                        run["stored"] = cached_tiles(url)
                        runs.setdefault(key, []).append(run)
                print(f"{key}: {[round(r['rps']) for r in runs[key]]} tiles/s", flush=True)
    labels = {"render": "rendered (cache off)", "cold": "cold cache (render + store)",
              "warm": "warm cache"}  # fmt: skip
    for mode, label in labels.items():
        base = statistics.median(r["rps"] for r in runs[f"{mode} primary"])
        value = statistics.median(r["rps"] for r in runs[f"{mode} replica"])
        result.add(
            Figure(f"tiles/s {label}, replica", value, "tiles/s",
                   f"primary only, {label}", base,
                   runs=[r["rps"] for r in runs[f"{mode} replica"]])
        )  # fmt: skip
        p95 = statistics.median(r["p95"] for r in runs[f"{mode} replica"])
        p95_base = statistics.median(r["p95"] for r in runs[f"{mode} primary"])
        result.add(Figure(f"p95 {label}, replica", p95, "ms", "primary only", p95_base))
    for where in ("primary", "replica"):
        stored = statistics.median(r["stored"] / r["requests"] for r in runs[f"cold {where}"])
        result.add(Figure(f"share of cold tiles stored, {where} reads", stored, "of requests"))
    errors = sum(r["errors"] for rs in runs.values() for r in rs)
    result.add(Figure("errors", errors, "responses", goal="0", met=errors == 0))
    result.notes.append(f"load average at the end: {os.getloadavg()[0]:.1f}")
    result.params["runs_detail"] = runs
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=300_000)
    parser.add_argument("--tiles", type=int, default=4000)
    parser.add_argument("--zoom", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"load average at start: {os.getloadavg()[0]:.1f}", flush=True)
    result = measure(args)
    print(f"results: {result.save()}")


if __name__ == "__main__":
    main()
