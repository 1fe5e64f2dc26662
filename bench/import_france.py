"""`carto import france` against `ogr2ogr`'s plain load of the same communes file.

The issue's goal: the complete national import (communes and arrondissements, EPCI and
EPT, départements and régions as unions of their communes, indexes, the national
default competences) takes at most 3× what `ogr2ogr` (GDAL, default options: COPY,
GiST index) takes to load the same file into a PostGIS table. Both run as commands,
alternately in each round on the same database (the machine is shared: both see the
same moment's load), each starting from empty tables: `carto import france FILE`
(`python -m carto`, so the figure includes its start-up, the migration check and
the tile copies' ANALYZE) and `ogr2ogr -f PostgreSQL … -overwrite`. The import's own
time (`ImportReport.seconds`, inside the process) is noted apart, and its phases
(the command's « Étapes » line) as min / median / max over the rounds; phases marked
« (fond) » ran on the second thread, during the unions.

    python -m bench.import_france [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from bench.common import ROOT, SHARED, Figure, Result, bench_database

FRANCE = SHARED / "communes-france.fgb"
TERRITORY_TABLES = ("intercommunalite_member", "arrondissement", "commune", "intercommunalite",
                    "departement", "region", "competence_rule", "service", "authority")  # fmt: skip


def empty_territories(url: str) -> None:
    """Back to a freshly migrated database: no territory, authority, service or rule."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {', '.join(TERRITORY_TABLES)} CASCADE")
        conn.execute("DROP TABLE IF EXISTS ogr_communes, ogr_epci, ogr_departement")


def run_ogr2ogr(url: str, path: Path) -> float:
    """Seconds for GDAL's plain load of `path` into a new table (COPY, GiST index)."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    pg = " ".join(f"{k}={v}" for k, v in info.items() if k in ("host", "port", "dbname", "user",
                                                               "password"))  # fmt: skip
    started = time.perf_counter()
    subprocess.run(
        ["ogr2ogr", "-f", "PostgreSQL", f"PG:{pg}", str(path), "-nln", "ogr_communes",
         "-nlt", "PROMOTE_TO_MULTI", "-lco", "GEOMETRY_NAME=geom", "-overwrite"],
        check=True, capture_output=True,
    )  # fmt: skip
    return time.perf_counter() - started


# The second baseline: the same derived layers with plain tools, after ogr2ogr's load:
# PostGIS unions of the communes per EPCI and per département (no régions: the file has
# no région column), each with its GiST index. No tile copies, no authorities or rules.
PLAIN_UNIONS = (
    "DROP TABLE IF EXISTS ogr_epci, ogr_departement",
    """CREATE TABLE ogr_epci AS SELECT epci_siren, ST_Multi(ST_Union(geom)) AS geom
       FROM ogr_communes WHERE type = 'COM' AND epci_siren IS NOT NULL GROUP BY epci_siren""",
    """CREATE TABLE ogr_departement AS
       SELECT CASE WHEN insee LIKE '97%%' THEN left(insee, 3) ELSE left(insee, 2) END AS code,
              ST_Multi(ST_Union(geom)) AS geom
       FROM ogr_communes WHERE type = 'COM' GROUP BY 1""",
    "CREATE INDEX ON ogr_epci USING gist (geom)",
    "CREATE INDEX ON ogr_departement USING gist (geom)",
)


def run_plain_unions(url: str) -> float:
    """Seconds for the EPCI and département unions in plain SQL over `ogr_communes`."""
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in PLAIN_UNIONS:
            conn.execute(statement)
    return time.perf_counter() - started


def run_carto(url: str, path: Path, phases: dict[str, list[float]] | None = None,
              ) -> tuple[float, float | None]:  # fmt: skip
    """Seconds for `carto import france FILE` as a command, and the import's own time;
    the command's « Étapes » line (seconds per phase) is added to `phases`."""
    env = {**os.environ, "CARTO_DATABASE_URL": url, "PYTHONPATH": str(ROOT), "COLUMNS": "400"}
    command = [sys.executable, "-m", "carto", "import", "france", str(path), *import_options(env)]
    started = time.perf_counter()
    done = subprocess.run(
        command,
        check=True, capture_output=True, text=True, env=env, cwd=ROOT,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    found = re.search(r"en ([\d.]+) s", done.stdout + done.stderr)
    steps = re.search(r"Étapes : (.*)", done.stdout + done.stderr)
    if phases is not None and steps:
        for name, value in re.findall(r"([^,]+?) ([\d.]+) s", steps.group(1)):
            phases.setdefault(name.strip(), []).append(float(value))
    return seconds, float(found.group(1)) if found else None


def import_options(env: dict[str, str]) -> list[str]:
    """`--sans-mairies` where the command has it: the goal covers the territories and
    their indexes, not the town halls' contacts fetched after them."""
    shown = subprocess.run([sys.executable, "-m", "carto", "import", "france", "--help"],
                           capture_output=True, text=True, env=env, cwd=ROOT)  # fmt: skip
    return ["--sans-mairies"] if "--sans-mairies" in shown.stdout else []


def counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
            for table in ("commune", "arrondissement", "intercommunalite", "departement", "region",
                          "ogr_communes")
        }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--name", default="import_france")
    args = parser.parse_args()
    if not FRANCE.exists():
        raise SystemExit(f"{FRANCE} is missing (shared/ beside the repository)")
    result = Result(args.name, params=vars(args))
    ours, theirs, inside, plain = [], [], [], []
    phases: dict[str, list[float]] = {}
    loaded: dict[str, int] = {}
    with bench_database("import_france") as url:
        for i in range(args.runs):
            empty_territories(url)
            theirs.append(run_ogr2ogr(url, FRANCE))
            plain.append(theirs[-1] + run_plain_unions(url))
            seconds, own = run_carto(url, FRANCE, phases)
            ours.append(seconds)
            loaded = counts(url)
            if loaded["commune"] + loaded["arrondissement"] != loaded["ogr_communes"]:
                raise SystemExit(f"carto import france did not load the file: {loaded}")
            if own is not None:
                inside.append(own)
            print(f"round {i + 1}: carto {seconds:.1f} s (import {own} s), "
                  f"ogr2ogr {theirs[-1]:.1f} s, with PostGIS unions {plain[-1]:.1f} s",
                  flush=True)  # fmt: skip
    value, base = statistics.median(ours), statistics.median(theirs)
    ratios = [o / t for o, t in zip(ours, theirs, strict=True)]
    load = os.getloadavg()[0]
    result.add(Figure("carto import france (complete, as a command)", value, "s",
                      "ogr2ogr plain load of the same file", base, "≤ 3× ogr2ogr",
                      all(r <= 3 for r in ratios), ours, baseline_runs=theirs,
                      conditions=f"empty tables each round; load {load:.1f}"))  # fmt: skip
    result.add(Figure("carto import france (complete, as a command), against plain unions",
                      value, "s", "ogr2ogr + PostGIS ST_Union per EPCI and département",
                      statistics.median(plain), None, None, ours, baseline_runs=plain,
                      conditions=f"same rounds; load {load:.1f}"))  # fmt: skip
    result.notes.append(
        f"loaded: {loaded}; import_france's own time per round {inside} s (the rest is the "
        f"command's start-up, migration check, default competences and the tile copies' ANALYZE)"
    )
    result.notes.append("phases, min / median / max s: " + "; ".join(
        f"{k} {min(v):.2f} / {statistics.median(v):.2f} / {max(v):.2f}"
        for k, v in phases.items()))  # fmt: skip
    print(result.notes[-1])
    print(f"\nsaved {result.save()}")


if __name__ == "__main__":
    main()
