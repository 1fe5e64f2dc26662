"""Intake under load: Open311 reports from N concurrent clients vs a one-INSERT baseline.

Baseline (same run, same uvicorn worker count, same client): a minimal FastAPI
endpoint inserting one row with asyncpg. Carto's path adds validation, routing
(one PostGIS query), the ticket, its events and the outbox rows. Afterwards every
201 answer's id is looked up in the database: nothing acknowledged may be lost.

    python -m bench.intake [--seconds 60] [--clients 32] [--runs 3] [--workers 1 2]
                           [--idempotency-key]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics

import psycopg

from bench.baseline_app import SCHEMA
from bench.common import Figure, Result, bench_database, percentile
from bench.loadgen import LoadResult, run_load
from bench.servers import baseline_server, carto_server

CODES = ["voirie", "dechets", "proprete", "eclairage", "espaces-verts", "mobilier"]


def sample_points(url: str, per_commune: int = 25) -> list[tuple[float, float]]:
    """Random points inside the demo communes (so every report routes)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            """SELECT ST_X(p.geom), ST_Y(p.geom) FROM commune c,
               LATERAL ST_Dump(ST_GeneratePoints(c.geom, %s, 42)) p""",
            (per_commune,),
        ).fetchall()
    return [(float(x), float(y)) for x, y in rows]


def body_maker(points: list[tuple[float, float]]):  # type: ignore[no-untyped-def]
    def make(rng: random.Random) -> dict[str, object]:
        lon, lat = rng.choice(points)
        return {
            "lat": f"{lat:.6f}", "long": f"{lon:.6f}", "service_code": rng.choice(CODES),
            "description": "Banc abîmé devant l'école, planche cassée (charge de test).",
        }  # fmt: skip

    return make


def lost_ids(url: str, ids: list[str], table: str) -> int:
    wanted = [int(i) for i in ids]
    with psycopg.connect(url) as conn:
        found = conn.execute(
            f"SELECT count(*) FROM {table} WHERE id = ANY(%s)", (wanted,)
        ).fetchone()[0]
    return len(set(wanted)) - int(found)


def measure(url: str, make, args: argparse.Namespace) -> LoadResult:  # type: ignore[no-untyped-def]
    """A short unmeasured warm-up (first-request imports, pools, caches), then the load.
    Ids acknowledged during the warm-up are checked for loss too."""
    keyed = getattr(args, "keyed", False)
    warm = asyncio.run(run_load(url, make, clients=args.clients, seconds=args.warmup, keyed=keyed))
    load = asyncio.run(run_load(url, make, clients=args.clients, seconds=args.seconds, keyed=keyed))
    load.ids.extend(warm.ids)
    return load


def summarize(load: LoadResult) -> dict[str, float]:
    lat = load.latencies
    return {
        "rps": load.ok / load.seconds if load.seconds else 0.0,
        "p50_ms": percentile(lat, 0.5) * 1000,
        "p99_ms": percentile(lat, 0.99) * 1000,
        "errors": float(load.errors + sum(v for k, v in load.statuses.items() if k >= 400)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds, not measured")
    parser.add_argument("--name", default="intake")
    parser.add_argument(
        "--idempotency-key", dest="keyed", action="store_true",
        help="every request carries a fresh Idempotency-Key (the claim and record cost)",
    )  # fmt: skip
    args = parser.parse_args()

    result = Result(args.name, params=vars(args))
    with bench_database("intake") as url:
        from carto.demo.loader import load_demo

        load_demo(url)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(SCHEMA)
        points = sample_points(url)
        make = body_maker(points)
        for workers in args.workers:
            base_runs: list[dict[str, float]] = []
            loads: list[float] = []
            carto_runs: list[dict[str, float]] = []
            lost = 0
            for _ in range(args.runs):
                with baseline_server(url, workers) as base:
                    load = measure(f"{base}/requests.json", make, args)
                    base_runs.append(summarize(load))
                    lost += lost_ids(url, load.ids, "bench_report")
                with carto_server(url, workers) as app:
                    load = measure(f"{app}/open311/v2/requests.json", make, args)
                    carto_runs.append(summarize(load))
                    lost += lost_ids(url, load.ids, "signalement")
                loads.append(os.getloadavg()[0])
            result.notes.append(
                f"{workers} worker(s): load average after each run "
                + ", ".join(f"{x:.1f}" for x in loads)
                + f" ({os.cpu_count()} cores shared by the load generator, app and PostgreSQL)"
            )  # fmt: skip
            med = {k: statistics.median(r[k] for r in carto_runs) for k in carto_runs[0]}
            base = {k: statistics.median(r[k] for r in base_runs) for k in base_runs[0]}
            print(
                f"\n{workers} worker(s), {args.clients} clients, {args.seconds:.0f} s x {args.runs}"
            )
            ratio = med["rps"] / base["rps"] if base["rps"] else 0
            result.add(Figure(
                f"reports/s, {workers} worker(s)", med["rps"], "req/s",
                "one-INSERT FastAPI+asyncpg", base["rps"], "≥ 0.8× baseline", ratio >= 0.8,
                [r["rps"] for r in carto_runs],
            ))  # fmt: skip
            result.add(Figure(f"p50, {workers} worker(s)", med["p50_ms"], "ms",
                              "baseline p50", base["p50_ms"]))  # fmt: skip
            tail = med["p99_ms"] / med["p50_ms"] if med["p50_ms"] else 0
            result.add(Figure(
                f"p99, {workers} worker(s)", med["p99_ms"], "ms", "4× Carto's p50",
                4 * med["p50_ms"], "p99 ≤ 4× p50", tail <= 4,
            ))  # fmt: skip
            result.add(Figure(f"errors, {workers} worker(s)", med["errors"], "responses"))
            result.add(Figure(f"lost acknowledged, {workers} worker(s)", float(lost), "reports",
                              goal="0", met=lost == 0))  # fmt: skip
    print(f"\nsaved {result.save()}")


if __name__ == "__main__":
    main()
