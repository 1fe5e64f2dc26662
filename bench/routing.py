"""Routing benchmarks on all French communes (34,867) plus the demo intercommunalities.

1. Single: reports routed one by one through `resolve_sync` (the app's statement)
   on one connection, p50/p99 per report next to an empty query (`SELECT 1`) on the
   same connection; the plan must show the commune GiST index.
2. Bulk: random points over metropolitan France, and a set concentrated in cities:
   Carto's grid locator vs `geopandas.sjoin` vs a PostGIS set-based join, answers
   compared point by point, points per second for each.

    python -m bench.routing [--single 10000] [--bulk 1000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import psycopg

from bench.common import SHARED, Figure, Result, bench_database, percentile
from carto.errors import OutsideTerritory
from carto.routing.decision import NoCompetence
from carto.routing.locator import PointLocator
from carto.routing.resolution import resolve_sync

FRANCE = SHARED / "communes-france.fgb"
METRO = (-4.8, 42.4, 8.2, 51.0)


def load_france(url: str) -> None:
    from carto.demo.loader import load_demo
    from carto.territories.importer import import_file

    load_demo(url)
    with psycopg.connect(url) as conn:
        import_file(conn, FRANCE)
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE commune")


def random_points(n: int, seed: int, cities: gpd.GeoDataFrame | None = None) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if cities is None:
        x0, y0, x1, y1 = METRO
        return np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)])
    # Concentrated: pick communes weighted by population, points spread ~2 km around them.
    weights = cities["population"].fillna(0).to_numpy(float)
    picks = rng.choice(len(cities), size=n, p=weights / weights.sum())
    centers = np.column_stack([cities.geometry.centroid.x.to_numpy(),
                               cities.geometry.centroid.y.to_numpy()])[picks]  # fmt: skip
    return centers + rng.normal(0, 0.02, size=(n, 2))


def bench_single(url: str, n: int, result: Result) -> None:
    points = random_points(n, seed=11)
    with psycopg.connect(url) as conn:
        conn.execute("SELECT 1")
        empty = []
        for _ in range(n):
            t = time.perf_counter()
            conn.execute("SELECT 1").fetchone()
            empty.append(time.perf_counter() - t)
        times = []
        routed = outside = 0
        for lon, lat in points:
            t = time.perf_counter()
            try:
                resolve_sync(conn=conn, lon=float(lon), lat=float(lat), category_code="voirie")
                routed += 1
            except NoCompetence:
                routed += 1  # located, but no rule in force there: same query cost
            except OutsideTerritory:
                outside += 1  # sea, abroad: the query ran all the same
            times.append(time.perf_counter() - t)
        plan = "\n".join(
            r[0] for r in conn.execute(
                "EXPLAIN ANALYZE SELECT insee FROM commune "
                "WHERE ST_Covers(geom, ST_SetSRID(ST_MakePoint(3.1779, 50.6916), 4326))"
            ).fetchall()
        )  # fmt: skip
    uses_index = "idx_commune_geom" in plan
    print(plan)
    p50, p99, e50 = percentile(times, 0.5), percentile(times, 0.99), percentile(empty, 0.5)
    result.add(Figure("single p50", p50 * 1000, "ms", "empty query p50", e50 * 1000,
                      "≤ 2× empty query", p50 <= 2 * e50, []))  # fmt: skip
    result.add(Figure("single p99", p99 * 1000, "ms", goal="≤ 5 ms", met=p99 <= 0.005))
    result.add(Figure("GiST index in plan", float(uses_index), "bool", goal="1", met=uses_index))
    result.notes.append(f"single: {routed}/{n} points located, {outside} outside France")


def postgis_join(url: str, pts: np.ndarray) -> tuple[np.ndarray, float]:
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TEMP TABLE pts (id int, lon float8, lat float8)")
        with conn.cursor().copy("COPY pts FROM STDIN") as copy:
            for i, (x, y) in enumerate(pts):
                copy.write_row((i, float(x), float(y)))
        started = time.perf_counter()
        rows = conn.execute(
            """SELECT p.id, (SELECT c.insee FROM commune c
                             WHERE ST_Covers(c.geom, ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326))
                             ORDER BY c.insee LIMIT 1)
               FROM pts p ORDER BY p.id"""
        ).fetchall()
        seconds = time.perf_counter() - started
    return np.array([r[1] or "-" for r in rows], dtype=object), seconds


def sjoin(communes: gpd.GeoDataFrame, pts: np.ndarray) -> tuple[np.ndarray, float]:
    frame = gpd.GeoDataFrame(geometry=gpd.points_from_xy(pts[:, 0], pts[:, 1]), crs=4326)
    started = time.perf_counter()
    joined = gpd.sjoin(frame, communes[["insee", "geometry"]], predicate="intersects", how="left")
    joined = joined.reset_index().sort_values(["index", "insee"]).drop_duplicates("index")
    seconds = time.perf_counter() - started
    return joined.set_index("index").sort_index()["insee"].fillna("-").to_numpy(object), seconds


def bench_bulk(url: str, n: int, runs: int, result: Result, cell: float = 0.005) -> None:
    frame = gpd.read_file(FRANCE, engine="pyogrio")
    communes = frame[frame["type"] == "COM"].reset_index(drop=True)
    t = time.perf_counter()
    locator = PointLocator.build(communes["insee"].to_numpy(), communes.geometry.to_numpy(), cell)
    result.notes.append(f"locator built in {time.perf_counter() - t:.1f} s (once per import)")
    for label, pts in (("uniform", random_points(n, 5)), ("cities", random_points(n, 6, communes))):
        ours, theirs, sql = [], [], []
        for _ in range(runs):
            t = time.perf_counter()
            found = locator.locate(pts[:, 0], pts[:, 1])
            ours.append(time.perf_counter() - t)
            codes = np.where(found >= 0, locator.codes[np.maximum(found, 0)], "-").astype(object)
            ref, secs = sjoin(communes, pts)
            theirs.append(secs)
        pg_codes, pg_secs = postgis_join(url, pts[: min(n, 200_000)])
        sql.append(pg_secs)
        same = bool((codes == ref).all()) and bool((codes[: len(pg_codes)] == pg_codes).all())
        rate, base = n / statistics.median(ours), n / statistics.median(theirs)
        result.add(Figure(f"bulk {label} (grid locator)", rate, "points/s", "geopandas.sjoin",
                          base, "≥ 5× sjoin", rate >= 5 * base, [n / s for s in ours]))  # fmt: skip
        result.add(Figure(f"bulk {label} (PostGIS set join)", len(pg_codes) / pg_secs,
                          "points/s", "geopandas.sjoin", base))  # fmt: skip
        result.add(Figure(f"bulk {label} answers identical", float(same), "bool",
                          goal="1", met=same))  # fmt: skip
        result.notes.append(
            f"{label}: grid settles {locator.settled_share(pts[:, 0], pts[:, 1]):.1%} "
            "of points without a polygon test"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--single", type=int, default=10_000)
    parser.add_argument("--bulk", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cell", type=float, default=0.005, help="grid cell, degrees")
    parser.add_argument("--name", default="routing")
    args = parser.parse_args()
    if not Path(FRANCE).exists():
        raise SystemExit(f"{FRANCE} is missing (shared/ beside the repository)")
    result = Result(args.name, params=vars(args))
    with bench_database("routing") as url:
        load_france(url)
        print(f"single: {args.single} reports")
        bench_single(url, args.single, result)
        print(f"bulk: {args.bulk} points x {args.runs} runs")
        bench_bulk(url, args.bulk, args.runs, result, args.cell)
    print(f"\nsaved {result.save()}")


if __name__ == "__main__":
    main()
