"""Export a one-million-point public layer in every format: time and peak memory.

Usage: .venv/bin/python -m bench.export_million [POINTS]   (default 1,000,000)

Creates a throwaway database on the embedded cluster of a temp dir (or on
CARTO_BENCH_DATABASE_URL's server), a 1M-row table and its public view, then runs
`carto export` once per format in a child process and prints wall time and the
child's peak RSS. Baseline: the same export filtered down to one row; flat
memory means the peak RSS barely moves between the two.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from bench.common import Figure, Result
from carto.db import with_driver
from carto.embedded import EmbeddedCluster
from carto.runtime import upgrade

FORMATS = ("geojson", "csv", "gpkg", "fgb")
# Formats whose writer must hold something per feature: not expected to stay flat.
INDEX_IN_MEMORY = {
    "fgb": "GDAL's FlatGeobuf writer keeps every feature's box and offset to build the "
    "packed Hilbert R-tree, which the format puts before the features",
}
ROOT = Path(__file__).resolve().parents[1]
SETUP = (
    """
    CREATE TABLE bench_point AS
    SELECT i AS id, (ARRAY['voirie','dechets','proprete','eclairage'])[1 + i % 4] AS service_code,
           (ARRAY['new','acknowledged','resolved'])[1 + i % 3] AS state,
           now() - (i || ' seconds')::interval AS created_at,
           ST_SetSRID(ST_MakePoint(2.2 + random() * 2.8, 45.5 + random() * 5.2), 4326)
             ::geometry(Point, 4326) AS geom
    FROM generate_series(1, {n}) i
    """,
    "ALTER TABLE bench_point ADD PRIMARY KEY (id)",
    "CREATE VIEW public_layers.bench_points AS SELECT * FROM bench_point",
)


CHILD = """
import resource, sys
from carto.cli import app
try:
    app(sys.argv[1:], standalone_mode=False)
finally:
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""


def _export(
    url: str, fmt: str, workdir: Path, layer_filter: str | None
) -> tuple[float, float, int]:
    """(seconds, peak RSS in MiB, file size in bytes) of one `carto export` in a child process."""
    target = workdir / f"out.{fmt}"
    env = {**os.environ, "CARTO_DATABASE_URL": url}
    args = ["export", "bench_points", str(target)] + (["-f", layer_filter] if layer_filter else [])
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, *args], check=True, env=env, cwd=ROOT, capture_output=True
    )
    seconds = time.perf_counter() - start
    peak_kib = int(done.stderr.decode().strip().splitlines()[-1])
    size = target.stat().st_size
    target.unlink()
    return seconds, peak_kib / 1024, size


def main(points: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="carto-bench-"))
    root.chmod(0o755)
    server = os.environ.get("CARTO_BENCH_DATABASE_URL")
    cluster = None
    if not server:
        cluster = EmbeddedCluster(root / "pg", fast=True)
        cluster.ensure_started()
        server = cluster.url()
    name = f"carto_bench_{secrets.token_hex(4)}"
    admin = with_driver(server, "psycopg").set(drivername="postgresql")
    try:
        with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        url = admin.set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        with psycopg.connect(url) as conn:
            for statement in SETUP:
                conn.execute(statement.format(n=int(points)))  # type: ignore[arg-type]
            conn.execute("ANALYZE bench_point")
        print(f"{points:,} points; each export in its own process (peak RSS is per child)")
        print(f"{'format':8} {'rows':>10} {'seconds':>8} {'rows/s':>10} {'peak MiB':>9} {'MiB':>8}")
        result = Result("exports", params={"points": points})
        for fmt in FORMATS:
            # baseline: the same export filtered down to one row (process and libraries)
            measured = []
            for flt, rows in (("id=1", 1), (None, points)):
                seconds, peak, size = _export(url, fmt, root, flt)
                measured.append((seconds, peak))
                print(
                    f"{fmt:8} {rows:>10,} {seconds:>8.1f} {rows / seconds:>10,.0f} "
                    f"{peak:>9.0f} {size / 2**20:>8.1f}"
                )
            (one_s, one_peak), (all_s, all_peak) = measured
            result.add(Figure(f"{fmt} export, {points:,} points", all_s, "s",
                              "the same export of 1 row", one_s))  # fmt: skip
            if fmt in INDEX_IN_MEMORY:
                result.add(Figure(f"{fmt} peak memory", all_peak, "MiB", "1-row export's peak",
                                  one_peak))  # fmt: skip
                per_feature = (all_peak - one_peak) * 2**20 / points
                result.notes.append(
                    f"{fmt}: {per_feature:.0f} bytes a feature above the 1-row peak; "
                    + INDEX_IN_MEMORY[fmt]
                )
                continue
            result.add(Figure(f"{fmt} peak memory", all_peak, "MiB", "1-row export's peak",
                              one_peak, "flat: ≤ 1.5× the 1-row peak",
                              all_peak <= 1.5 * one_peak))  # fmt: skip
        print(f"saved {result.save()}")
    finally:
        if cluster is not None:
            cluster.stop()
        subprocess.run(["rm", "-rf", str(root)], check=False)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
