"""Backup and restore of a populated database: time, size, and what the heat grid costs.

Usage: python -m bench.backup [REPORTS]   (default 1,000,000)

A throwaway embedded cluster (fsync on) with the demo loaded, its reports copied
until REPORTS (jittered positions within the demo's communes: the tile triggers keep
the heat grid and the stored point index as intake would). Then `backup` and
`restore` into a second fresh cluster, each timed. Baselines in the same run: a bare
`pg_dump -Fc` of the same database (what the manifest's counting and checksums add),
and rebuilding the heat grid of the restored database (what restoring it instead of
copying it would cost; its point index is current there, so the set-based rebuild
rewrites only the grid). At 1,000,000 reports on a quiet 2-core machine: growing ~3 min,
backup and restore ~15 s and ~30 s (200,120 reports: 3.1 s and 6.0 s).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from bench.common import Figure, Result, bench_database
from carto.embedded import EmbeddedCluster
from carto.ops.backup import backup, client_command
from carto.ops.restore import restore

GROW = """
INSERT INTO signalement (category_code, description, address_string, state,
    geom, commune_insee, arrondissement_insee, intercommunalite_siren, authority_id,
    service_id, rule_id, explanation, street_name, road_class, due_at, supports, source,
    created_at)
SELECT category_code, description, address_string, state,
    ST_SetSRID(ST_MakePoint(ST_X(geom) + (random() - 0.5) * 0.01,
                            ST_Y(geom) + (random() - 0.5) * 0.01), 4326),
    commune_insee, arrondissement_insee, intercommunalite_siren, authority_id, service_id,
    rule_id, explanation, street_name, road_class, due_at, supports, source,
    created_at - (g || ' minutes')::interval
FROM (SELECT * FROM signalement ORDER BY id LIMIT 200) s, generate_series(1, %s) g
"""


def grow(url: str, target: int) -> float:
    """Copy reports up to `target`, the tile trigger off, then one set-based rebuild of the
    heat grid and point index (the trigger, row by row, took ~11 minutes a million)."""
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER TABLE signalement DISABLE TRIGGER tiles_signalements")
        try:
            while (n := conn.execute("SELECT count(*) FROM signalement").fetchone()[0]) < target:  # type: ignore[index]
                conn.execute(GROW, (max(1, min(50, (target - n) // 200)),))  # 10k rows a turn
        finally:
            conn.execute("ALTER TABLE signalement ENABLE TRIGGER tiles_signalements")
        conn.execute("SELECT tiles.rebuild_heat('signalements')")
        conn.execute("SELECT tiles.fold_heat(interval '0')")
        conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def main(reports: int) -> None:
    from carto.demo.loader import load_demo

    result = Result("backup", params={"reports": reports})
    work = Path(tempfile.mkdtemp(prefix="carto-bench-backup-"))
    work.chmod(0o755)
    try:
        with bench_database("backup") as url:
            load_demo(url)
            grown = grow(url, reports)
            with psycopg.connect(url) as conn:
                n = conn.execute("SELECT count(*) FROM signalement").fetchone()[0]  # type: ignore[index]
                size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]  # type: ignore[index]
                heat = conn.execute("SELECT count(*) FROM tiles.heat_cell").fetchone()[0]  # type: ignore[index]
            result.notes.append(
                f"{n:,} reports, {heat:,} heat cells, database {size / 2**20:.0f} MiB, grown in "
                f"{grown:.0f} s; load average {os.getloadavg()[0]:.1f} (2 cores, shared)"
            )
            cmd, env = client_command("pg_dump", url)
            started = time.perf_counter()
            subprocess.run([*cmd, "-Fc", f"--file={work / 'bare.dump'}"], env=env, check=True)
            bare = time.perf_counter() - started
            started = time.perf_counter()
            manifest = backup(url, work / "carto.backup")
            took = time.perf_counter() - started
            result.add(Figure(f"backup, {n:,} reports", took, "s", "bare pg_dump -Fc", bare))
            result.notes.append(f"archive {manifest['dump_bytes'] / 2**20:.0f} MiB")
            target = EmbeddedCluster(work / "restored")
            target.ensure_started()
            try:
                restored = restore(target.url(), work / "carto.backup")
                with psycopg.connect(target.url(), autocommit=True) as conn:
                    started = time.perf_counter()
                    conn.execute("SELECT tiles.rebuild_heat('signalements')")
                    rebuild = time.perf_counter() - started
                seconds = (
                    restored["restore_seconds"] + restored["migrate_seconds"]
                    + restored["vacuum_seconds"]
                )  # fmt: skip
                name = f"restore, {n:,} reports (verified, migrated, vacuumed)"
                baseline = "rebuilding the signalements heat grid instead"
                result.add(Figure(name, seconds, "s", baseline, rebuild))
            finally:
                target.stop()
        print(f"saved {result.save()}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
