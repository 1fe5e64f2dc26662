"""Geocoding benchmark: the built-in provider on a département-sized address table.

All French communes and arrondissements (34,912, the national commune search), then
~1.5 M synthetic addresses in the Nord's 647 real communes, written in the BAN's real
CSV format (gzip) and loaded through `carto import addresses` (the CLI, timed), then
VACUUM ANALYZE. Queries go through `BuiltinGeocoder` on an async session (the API's
path, SQLAlchemy + asyncpg), each timed; figures are per-round p95 (median of rounds,
min and max printed) next to the same queries on the empty address table (measured
first, same run) and an empty statement (`SELECT 1`) on the same session.

Also the added p50 of the built-in address lookup on the intake path: the intake's
address CTE with the lookup on, next to the same statement with it skipped.

    python -m bench.geocode [--rows 1500000] [--queries 400] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import itertools
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pyogrio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bench.common import ROOT, SHARED, Figure, Result, bench_database, percentile
from carto.db import make_async_engine
from carto.geocoding.builtin import ADDRESS_MAX_M, STREET_MAX_M, BuiltinGeocoder
from carto.geocoding.importer import BAN_COLUMNS
from carto.geocoding.provider import parse_query
from carto.signalements.address import ADDRESS_CTE

FRANCE = SHARED / "communes-france.fgb"
TYPES = ["Rue", "Rue", "Rue", "Avenue", "Boulevard", "Place", "Chemin", "Impasse", "Allée",
         "Route", "Cours", "Quai", "Résidence", "Sentier"]  # fmt: skip
NAMES = [
    "Victor Hugo", "Jean Jaurès", "de la Gare", "Pasteur", "Gambetta", "Saint-Martin",
    "du Général de Gaulle", "de Lille", "de Paris", "des Écoles", "de l'Église", "Nationale",
    "Carnot", "Émile Zola", "Jules Ferry", "Sadi Carnot", "de la République", "Voltaire",
    "du Maréchal Foch", "Anatole France", "Jean Moulin", "Roger Salengro", "de Verdun",
    "des Tilleuls", "des Lilas", "du Moulin", "de la Paix", "de la Liberté", "Léon Blum",
    "Gustave Eiffel", "des Acacias", "du Château", "de Tourcoing", "de Roubaix", "d'Arras",
    "Saint-Pierre", "Sainte-Anne", "Saint-Jacques", "du Marché", "de la Mairie", "du Stade",
    "Pierre Curie", "Marie Curie", "Louis Blériot", "Henri Barbusse", "Paul Bert",
    "des Peupliers", "de la Fontaine", "du Calvaire", "de Valenciennes", "de Douai",
    "de Cambrai", "du Port", "de la Lys", "de l'Escaut", "des Fusillés", "du 8 Mai 1945",
    "du 11 Novembre", "Jean-Baptiste Lebas", "Roger Salengro", "Faidherbe", "Vauban",
    "Condorcet", "Lamartine", "Alfred de Musset", "George Sand", "des Prés", "des Champs",
    "de la Liberté", "Fernand Pelloutier", "des Rosiers", "Edouard Vaillant", "Kléber",
]  # fmt: skip
FIRST = [
    "Jean", "Pierre", "Louis", "Marie", "Paul", "Jacques", "Henri", "Charles", "Anne",
    "Georges", "Émile", "Albert", "Lucie", "Jeanne", "Marcel", "Camille", "Joseph", "Léon",
    "André", "Suzanne", "Michel", "Hélène", "François", "Simone", "Victor",
]  # fmt: skip
LAST = [
    "Martin", "Bernard", "Dubois", "Lefebvre", "Leroy", "Moreau", "Lambert", "Fontaine",
    "Roussel", "Delattre", "Dupont", "Mercier", "Vasseur", "Caron", "Lemaire", "Dufour",
    "Blanchard", "Descamps", "Deschamps", "Delmotte", "Carpentier", "Masson", "Gauthier",
    "Lecomte", "Hennebelle", "Wattel", "Vandamme", "Declercq", "Baert", "Verstraete",
]  # fmt: skip
STREET_NAMES = [f"{t} {n}" for t, n in itertools.product(
    TYPES[2:] + ["Rue"], NAMES + [f"{f} {la}" for f in FIRST for la in LAST]
)]  # fmt: skip


def _nord() -> list[tuple[str, str, float, float, float]]:
    """(insee, name, lon, lat, population) of the Nord's communes."""
    frame = pyogrio.read_dataframe(FRANCE, where="insee LIKE '59%'")
    points = frame.geometry.representative_point()
    return [
        (r.insee, r.nom, p.x, p.y, float(r.population or 0))
        for r, p in zip(frame.itertuples(), points, strict=True)
    ]


def write_ban_file(path: Path, rows: int, seed: int = 59) -> list[tuple[str, str, int, str]]:
    """Synthetic addresses in the BAN CSV format; returns (street, city, number, postcode)
    samples for the queries. Streets per commune follow population."""
    rng = random.Random(seed)
    communes = _nord()
    total_pop = sum(c[4] for c in communes)
    samples: list[tuple[str, str, int, str]] = []
    written = 0
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) as out:
        out.write(";".join(BAN_COLUMNS) + "\n")
        for insee, city, lon0, lat0, pop in communes:
            budget = max(40, int(rows * pop / total_pop))
            postcode = f"59{rng.randint(0, 99):03d}"
            names = iter(rng.sample(STREET_NAMES, len(STREET_NAMES)))  # distinct in a town
            street_no = 0
            while budget > 0:
                street_no += 1
                name = next(names)
                count = min(budget, rng.randint(5, 60))
                slon, slat = lon0 + rng.gauss(0, 0.012), lat0 + rng.gauss(0, 0.008)
                bearing = rng.uniform(0, 6.283)
                fantoir = f"{insee}_{street_no:04d}"
                for numero in range(1, count + 1):
                    along = numero * 6.0 / 111_000
                    lon = slon + along * 1.5 * math.cos(bearing)
                    lat = slat + along * math.sin(bearing)
                    out.write(
                        f"{fantoir}_{numero:05d};{fantoir};{numero};;{name};{postcode};{insee};"
                        f"{city};;;;;{lon:.6f};{lat:.6f};entrée;;;{city.upper()};"
                        f"{name.upper()};commune;commune;1;\n"
                    )
                written += count
                budget -= count
                if rng.random() < 0.02:
                    samples.append((name, city, rng.randint(1, count), postcode))
    print(f"  {written} synthetic addresses written to {path.name}", flush=True)
    return samples


def make_queries(samples: list[tuple[str, str, int, str]], n: int, seed: int = 7) -> list[dict]:
    """House numbers, streets with or without their town, prefixes, typos, communes and
    postcodes; half of them with a map view (lon/lat) around Lille."""
    rng = random.Random(seed)
    queries = []
    for i in range(n):
        street, city, number, postcode = rng.choice(samples)
        kind = i % 6
        q = {
            0: f"{number} {street} {city}",
            1: f"{street} {city}",
            2: f"{street} {postcode}",
            3: f"{street}"[: max(6, int(len(street) * 0.6))],
            4: city,
            5: city[:2] + city[3] + city[2] + city[4:] if len(city) > 5 else city,
        }[kind]
        view = {"lon": 3.06 + rng.gauss(0, 0.1), "lat": 50.63 + rng.gauss(0, 0.1)} if i % 2 else {}
        queries.append({"q": q, **view})
    return queries


async def _time_queries(
    session: AsyncSession, queries: list[dict], points: list[tuple[float, float]], rounds: int
) -> dict[str, list[float]]:
    """Per-round p95 (ms) of search, reverse and the empty statement."""
    geocoder = BuiltinGeocoder()
    out: dict[str, list[float]] = {"search": [], "reverse": [], "empty": [], "found": []}
    for _ in range(rounds):
        search, reverse, empty, found = [], [], [], 0
        for query in queries:
            parsed = parse_query(query["q"], lon=query.get("lon"), lat=query.get("lat"))
            t = time.perf_counter()
            places = await geocoder.search(parsed, session=session)
            search.append(time.perf_counter() - t)
            found += bool(places)
        for lon, lat in points:
            t = time.perf_counter()
            await geocoder.reverse(lon, lat, session=session)
            reverse.append(time.perf_counter() - t)
            t = time.perf_counter()
            await session.execute(text("SELECT 1"))
            empty.append(time.perf_counter() - t)
        out["search"].append(percentile(search, 0.95) * 1000)
        out["reverse"].append(percentile(reverse, 0.95) * 1000)
        out["empty"].append(percentile(empty, 0.95) * 1000)
        out["found"].append(found / len(queries))
    return out


async def measure(url: str, queries: list[dict], points, rounds: int) -> dict[str, list[float]]:
    engine = make_async_engine(url, pool_size=1, max_overflow=0)
    try:
        async with AsyncSession(engine) as session:
            for query in queries[:20]:  # warm-up: prepared statements, caches
                await BuiltinGeocoder().search(parse_query(query["q"]), session=session)
            return await _time_queries(session, queries, points, rounds)
    finally:
        await engine.dispose()


INTAKE_PROBE = text(
    f"WITH {ADDRESS_CTE} SELECT addr.label FROM (SELECT 1) one LEFT JOIN addr ON true"
)


async def intake_address(url: str, points, rounds: int) -> dict[str, list[float]]:
    """Per-round p50 (ms) of the intake's address CTE (carto.signalements.address), the
    lookup on (the built-in reverse) and skipped (an address given: the baseline), same
    statement, same session, alternated point by point."""
    engine = make_async_engine(url, pool_size=1, max_overflow=0)
    out: dict[str, list[float]] = {"on": [], "off": []}
    try:
        async with AsyncSession(engine) as session:
            areas = []
            for lon, lat in points:
                row = (
                    await session.execute(
                        text("SELECT insee, nom FROM commune WHERE ST_Intersects(geom,"
                             " ST_SetSRID(ST_MakePoint(:x, :y), 4326)) LIMIT 1"),
                        {"x": lon, "y": lat},
                    )
                ).first()  # fmt: skip
                if row is not None:
                    areas.append((lon, lat, row.insee, row.nom))
            base = {"addr_m": ADDRESS_MAX_M, "street_m": STREET_MAX_M}
            for lon, lat, insee, nom in areas[:20]:  # warm-up
                params = {**base, "lon": lon, "lat": lat, "a_area_insee": insee,
                          "a_area_name": nom, "a_skip": False}  # fmt: skip
                await session.execute(INTAKE_PROBE, params)
            for _ in range(rounds):
                timings: dict[str, list[float]] = {"on": [], "off": []}
                for lon, lat, insee, nom in areas:
                    for key, skip in (("on", False), ("off", True)):
                        params = {**base, "lon": lon, "lat": lat, "a_area_insee": insee,
                                  "a_area_name": nom, "a_skip": skip}  # fmt: skip
                        t = time.perf_counter()
                        await session.execute(INTAKE_PROBE, params)
                        timings[key].append(time.perf_counter() - t)
                for key in out:
                    out[key].append(percentile(timings[key], 0.5) * 1000)
    finally:
        await engine.dispose()
    return out


def _spread(values: list[float]) -> str:
    return f"min {min(values):.2f} / median {statistics.median(values):.2f} / max {max(values):.2f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_500_000)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    result = Result("geocode", params=vars(args))
    with bench_database("geocode") as url:
        from carto.territories.importer import import_file

        with psycopg.connect(url) as conn:
            import_file(conn, FRANCE)
            conn.commit()
        tmp = Path(tempfile.gettempdir()) / f"adresses-59-bench-{os.getpid()}.csv.gz"
        samples = write_ban_file(tmp, args.rows)
        queries = make_queries(samples, args.queries)
        rng = random.Random(3)
        points = [(rng.uniform(2.9, 3.3), rng.uniform(50.5, 50.8)) for _ in range(args.queries)]
        print("empty address table (baseline):", flush=True)
        empty = asyncio.run(measure(url, queries, points, args.rounds))
        print(
            f"  search p95 {_spread(empty['search'])} ms; reverse p95 {_spread(empty['reverse'])}"
        )
        t = time.perf_counter()
        env = {**os.environ, "CARTO_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
        subprocess.run([sys.executable, "-m", "carto", "import", "addresses", str(tmp)],
                       env=env, check=True, cwd=ROOT)  # fmt: skip
        load_s = time.perf_counter() - t
        tmp.unlink()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE geocode_address")
            conn.execute("VACUUM ANALYZE geocode_street")
            n_addr, n_streets = conn.execute(
                "SELECT (SELECT count(*) FROM geocode_address),"
                " (SELECT count(*) FROM geocode_street)"
            ).fetchone()  # type: ignore[misc]
        print(f"{n_addr} addresses, {n_streets} streets (vacuumed, analysed):", flush=True)
        full = asyncio.run(measure(url, queries, points, args.rounds))
        # Intake points: half a few metres from an address (the usual case), half anywhere.
        with psycopg.connect(url) as conn:
            on_address = conn.execute(
                "SELECT ST_X(geom) + 0.0001, ST_Y(geom) FROM geocode_address"
                " TABLESAMPLE SYSTEM (1) REPEATABLE (5) LIMIT 200"
            ).fetchall()
        intake = asyncio.run(intake_address(url, on_address + points[:200], args.rounds))
    s, r = statistics.median(full["search"]), statistics.median(full["reverse"])
    result.add(Figure(f"search p95, {n_addr:,} addresses", s, "ms",
                      "same queries, empty address table", statistics.median(empty["search"]),
                      "≤ 20 ms", s <= 20, full["search"]))  # fmt: skip
    result.add(Figure(f"reverse p95, {n_addr:,} addresses", r, "ms",
                      "same points, empty address table", statistics.median(empty["reverse"]),
                      "≤ 2 ms", r <= 2, full["reverse"]))  # fmt: skip
    result.add(Figure("empty statement p95 (same session)", statistics.median(full["empty"]), "ms"))
    on, off = statistics.median(intake["on"]), statistics.median(intake["off"])
    added = [a - b for a, b in zip(intake["on"], intake["off"], strict=True)]
    result.add(Figure("intake address lookup, added p50 (built-in)", on - off, "ms",
                      "the intake's address CTE skipped (address given), p50", off, "≤ 0.3 ms",
                      on - off <= 0.3, added))  # fmt: skip
    result.add(Figure("queries with an answer", statistics.median(full["found"]) * 100, "%"))
    result.add(Figure(f"carto import addresses, {n_addr:,} rows (CLI, gzip)", load_s, "s"))
    load = os.getloadavg()
    result.notes.append(
        f"{args.queries} queries and {args.queries} reverse points a round, {args.rounds} rounds;"
        f" p95 per round, search full {_spread(full['search'])} ms, empty table"
        f" {_spread(empty['search'])} ms; reverse full {_spread(full['reverse'])} ms, empty"
        f" {_spread(empty['reverse'])} ms; intake address CTE p50 on {_spread(intake['on'])}"
        f" ms, skipped {_spread(intake['off'])} ms (same statement and session, alternated);"
        f" {n_streets:,} streets; load average at the end"
        f" {load[0]:.1f} (2 cores shared with other engineers' work)"
    )
    print(f"results: {result.save()}")


if __name__ == "__main__":
    main()
