"""`carto db restore`: a backup into an empty database, checked against its manifest.

Steps: the dump's SHA-256 against the manifest; the target must hold no table (or
`--force`: the database is dropped and created again); the group roles `carto_app`
and `carto_reader` are created if the cluster lacks them (roles are cluster-wide, a
dump does not carry them); `pg_restore` in one transaction without owners (the
restoring login owns everything) and without the extension's own entries (PostGIS is
installed first) nor default privileges (they name the old owner); the tile log
horizon is reset; every table's rows and checksum are compared with the manifest;
then the migrations run to their heads and p001's grants are applied again, so the
app and reader roles work on every object, whoever restored; last, VACUUM (ANALYZE) of
the whole database, as after every bulk load: pg_restore leaves no statistics and no
page all-visible, and dense point tiles are index-only scans only on visible pages.
"""

from __future__ import annotations

import re
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from carto.db import libpq_url
from carto.errors import CartoError
from carto.ops.backup import DUMP, SECRET, client_command, read_manifest, sha256_of
from carto.ops.inventory import differences, table_sums, user_tables
from carto.roles import GROUPS
from carto.tiles.maintenance import vacuum_tile_tables

# pg_restore's table of contents entries left out (see the module docstring).
SKIPPED_ENTRIES = re.compile(r" (EXTENSION|COMMENT - EXTENSION|DEFAULT ACL) ")
EXTENSION_ENTRY = re.compile(r"; \d+ \d+ EXTENSION - (\w+)")
RESET_TILE_LOG = """
UPDATE tiles.log_horizon SET horizon = '0',
    next_horizon = pg_snapshot_xmin(pg_current_snapshot()), pruned_at = now()
"""


def restore(url: str, file: Path, *, force: bool = False) -> dict[str, Any]:
    """Restore `file` into the database at `url`; returns the manifest and the timings."""
    started = time.monotonic()
    manifest = read_manifest(file)
    url = libpq_url(url)
    with tempfile.TemporaryDirectory(prefix="carto-restore-") as tmp:
        dump = Path(tmp) / DUMP
        with tarfile.open(file, "r") as tar:
            tar.extract(DUMP, tmp, filter="data")
        if sha256_of(dump) != manifest["dump_sha256"]:
            raise CartoError(f"{file} est corrompu : l'empreinte du dump ne correspond pas.")
        _prepare_target(url, force=force)
        _ensure_group_roles(url)
        _pg_restore(url, dump, Path(tmp))
    with psycopg.connect(url) as conn:
        conn.execute(RESET_TILE_LOG)
        found = table_sums(conn)
    wrong = differences(manifest["tables"], found)
    if wrong:
        raise CartoError("La base restaurée diffère de la sauvegarde : " + " ; ".join(wrong[:5]))
    restored = time.monotonic()
    from carto.runtime import upgrade

    upgrade(url)
    _grant_roles(url)
    migrated = time.monotonic()
    vacuum_tile_tables(url, whole_database=True)  # pages all-visible, statistics built
    return {
        **manifest,
        "restore_seconds": round(restored - started, 2),
        "migrate_seconds": round(migrated - restored, 2),
        "vacuum_seconds": round(time.monotonic() - migrated, 2),
    }


def secret_key_of(file: Path) -> bytes | None:
    """The data dir's secret key kept in the archive, if any."""
    with tarfile.open(file, "r") as tar:
        try:
            member = tar.extractfile(SECRET)
        except KeyError:
            return None
        return member.read() if member else None


def _prepare_target(url: str, *, force: bool) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        if user_tables(conn) == 0:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            return
    name = str(conninfo_to_dict(url).get("dbname") or "")
    if not force:
        raise CartoError(
            f"La base « {name} » contient déjà des tables : la restauration l'écraserait. "
            "Restaurez dans une base vide, ou ajoutez --force pour la remplacer."
        )
    maintenance = make_conninfo(url, dbname="postgres")  # keeps sslmode and the rest
    try:
        with psycopg.connect(maintenance, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        raise CartoError(
            f"Impossible de recréer la base « {name} » ({exc.diag.message_primary}) : "
            "créez une base vide avec PostGIS et restaurez-y la sauvegarde."
        ) from exc
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")


def _ensure_group_roles(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for group in GROUPS.values():
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (group,)).fetchone():
                continue
            try:
                conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(group)))
            except psycopg.Error as exc:
                raise CartoError(
                    f"Le rôle {group} n'existe pas et ne peut être créé "
                    f"({exc.diag.message_primary}) : créez-le (README, « Database roles »)."
                ) from exc


def _pg_restore(url: str, dump: Path, tmp: Path) -> None:
    cmd, env = client_command("pg_restore", url)
    toc = subprocess.run(  # noqa: S603 - our own arguments
        [cmd[0], "--list", str(dump)], env=env, capture_output=True, text=True, check=True
    ).stdout
    # The dump's extensions (postgis, pg_trgm, unaccent...) are created here, by name,
    # before the data: generated columns call them while rows are copied in.
    with psycopg.connect(url, autocommit=True) as conn:
        for name in sorted(set(EXTENSION_ENTRY.findall(toc))):
            conn.execute(
                sql.SQL("CREATE EXTENSION IF NOT EXISTS {} SCHEMA public").format(
                    sql.Identifier(name)
                )
            )
    kept = tmp / "toc.list"
    kept.write_text(
        "".join(f"{line}\n" for line in toc.splitlines() if not SKIPPED_ENTRIES.search(line))
    )
    proc = subprocess.run(  # noqa: S603
        [*cmd, "--no-owner", "--single-transaction", "--exit-on-error", f"--use-list={kept}",
         str(dump)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        raise CartoError(f"pg_restore a échoué : {proc.stderr.strip()[-2000:]}")


def _grant_roles(url: str) -> None:
    """p001's grants and default privileges, for the restoring owner (idempotent)."""
    from alembic.script import ScriptDirectory

    from carto.runtime import alembic_config

    p001 = ScriptDirectory.from_config(alembic_config()).get_revision("p001")
    assert p001 is not None
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(p001.module.UPGRADE)
