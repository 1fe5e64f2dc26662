"""`carto db backup`: one file an operator can keep, check and restore.

The file is a tar of three members:

- `manifest.json`: Carto's version, the migration heads, PostgreSQL and PostGIS
  versions, row counts and checksums of every table, the dump's SHA-256;
- `carto.dump`: a `pg_dump` custom-format archive of the whole database, photos
  included (they are rows: `media_photo`, `media_original`);
- `secret_key` (when the data dir generated one): signed tokens and the daily
  vote hashes depend on it.

`pg_dump` runs in a snapshot exported by the connection that counts and checksums the
tables, so the manifest describes exactly what the dump holds, while the service keeps
writing. The heat grid and the stored point index are in the dump (copying them costs
seconds; rebuilding costs minutes); the tile cache and its write log are not (see
`inventory.EXCLUDED_DATA`).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import tarfile
import tempfile
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from carto.db import libpq_url
from carto.embedded import find_pg_bin_dir
from carto.errors import CartoError
from carto.ops.inventory import EXCLUDED_DATA, heads, table_sums

FORMAT = 1
MANIFEST, DUMP, SECRET = "manifest.json", "carto.dump", "secret_key"


def client_command(tool: str, url: str) -> tuple[list[str], dict[str, str]]:
    """`[tool, --dbname=conninfo]` and its environment: the password goes through
    PGPASSWORD, not the command line (which `ps` shows)."""
    params = conninfo_to_dict(libpq_url(url))
    password = params.pop("password", None)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    if password:
        env["PGPASSWORD"] = str(password)
    return [str(find_pg_bin_dir() / tool), f"--dbname={make_conninfo('', **params)}"], env


def carto_version() -> str:
    try:
        return metadata.version("carto")
    except metadata.PackageNotFoundError:
        return "inconnue"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def backup(url: str, file: Path, *, secret_key_file: Path | None = None) -> dict[str, Any]:
    """Write the archive to `file` (atomically: `file.partial`, then renamed); returns
    the manifest."""
    started = time.monotonic()
    file = Path(file)
    work = Path(tempfile.mkdtemp(prefix=".carto-backup-", dir=file.parent.resolve()))
    dump = work / DUMP
    try:
        with psycopg.connect(libpq_url(url)) as conn:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            row = conn.execute("SELECT pg_export_snapshot(), version(), postgis_full_version()")
            snapshot, pg_version, postgis = row.fetchone() or ("", "", "")
            cmd, env = client_command("pg_dump", url)
            excluded = [f"--exclude-table-data={name}" for name in EXCLUDED_DATA]
            proc = subprocess.Popen(  # noqa: S603 - our own arguments
                [*cmd, "--format=custom", f"--snapshot={snapshot}", f"--file={dump}", *excluded],
                env=env, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            tables = table_sums(conn)  # meanwhile, in the same snapshot
            migration_heads = heads(conn)
            _, err = proc.communicate()
            if proc.returncode != 0:
                raise CartoError(f"pg_dump a échoué : {err.strip()}")
        manifest = {
            "format": FORMAT,
            "carto_version": carto_version(),
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "migration_heads": migration_heads,
            "postgresql": pg_version,
            "postgis": postgis,
            "excluded_data": list(EXCLUDED_DATA),
            "dump_sha256": sha256_of(dump),
            "dump_bytes": dump.stat().st_size,
            "tables": tables,
            "photos": tables.get("public.media_photo", {}).get("rows", 0),
        }
        partial = file.with_name(file.name + ".partial")
        with tarfile.open(partial, "w") as tar:
            _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=1).encode())
            tar.add(dump, arcname=DUMP)
            if secret_key_file is not None and secret_key_file.is_file():
                _add_bytes(tar, SECRET, secret_key_file.read_bytes())
        partial.chmod(0o600)  # personal data and, maybe, the secret key
        partial.replace(file)
        manifest["seconds"] = round(time.monotonic() - started, 2)
        return manifest
    finally:
        dump.unlink(missing_ok=True)
        work.rmdir()


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    info.mtime = int(time.time())
    tar.addfile(info, io.BytesIO(data))


def read_manifest(file: Path) -> dict[str, Any]:
    """The archive's manifest, or a clear error when `file` is not a Carto backup."""
    try:
        with tarfile.open(file, "r") as tar:
            member = tar.extractfile(MANIFEST)
            manifest: dict[str, Any] = json.loads(member.read()) if member else {}
    except (OSError, tarfile.TarError, KeyError, json.JSONDecodeError) as exc:
        raise CartoError(f"{file} n'est pas une sauvegarde Carto lisible ({exc}).") from exc
    if manifest.get("format") != FORMAT:
        raise CartoError(f"{file} : format de sauvegarde inconnu ({manifest.get('format')}).")
    return manifest
