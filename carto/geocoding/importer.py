"""`carto import addresses`: the Base Adresse Nationale's published CSV, loaded with COPY.

The files are `adresses-<département>.csv(.gz)` (or `adresses-france.csv.gz`) from
adresse.data.gouv.fr, `;`-separated, one address a row. The raw bytes go to
PostgreSQL's own CSV parser (COPY into a temporary table, no Python per row), then
a few set-based statements upsert streets (one per commune and street name, the unit
the search ranks) and addresses (by the BAN `id`), so a second import of the same
file changes nothing and a newer file updates in place.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

import psycopg

from carto.errors import ImportFailed

BAN_COLUMNS = (
    "id", "id_fantoir", "numero", "rep", "nom_voie", "code_postal", "code_insee",
    "nom_commune", "code_insee_ancienne_commune", "nom_ancienne_commune", "x", "y", "lon",
    "lat", "type_position", "alias", "nom_ld", "libelle_acheminement", "nom_afnor",
    "source_position", "source_nom_voie", "certification_commune", "cad_parcelles",
)  # fmt: skip
CHUNK = 1 << 20
Progress = Callable[[str, int, int], None]  # stage, bytes read, file size

# Rows that cannot be an address (no id, no street, no number, no coordinates) are counted
# and left out rather than failing a 2 GB import for one bad line.
DROP_INVALID = """
    DELETE FROM ban_stage WHERE NOT coalesce(
        id <> '' AND nom_voie <> '' AND nom_commune <> ''
        AND code_insee ~ '^[0-9][0-9AB][0-9]{3}$' AND numero ~ '^[0-9]{1,6}$'
        AND lon ~ '^-?[0-9]{1,3}(\\.[0-9]+)?$' AND lat ~ '^-?[0-9]{1,2}(\\.[0-9]+)?$',
        false)
"""

UPSERT_STREETS = """
    INSERT INTO geocode_street (street_key, name, postcode, citycode, city, norm, city_norm)
    SELECT DISTINCT ON (code_insee, nom_voie)
           code_insee || '|' || nom_voie, nom_voie, NULLIF(code_postal, ''), code_insee,
           nom_commune, carto_geo_norm(nom_voie), carto_geo_norm(nom_commune)
    FROM ban_stage
    ORDER BY code_insee, nom_voie, code_postal
    ON CONFLICT (street_key) DO UPDATE SET
        name = excluded.name, postcode = excluded.postcode, city = excluded.city,
        norm = excluded.norm, city_norm = excluded.city_norm
    WHERE (geocode_street.postcode, geocode_street.city)
          IS DISTINCT FROM (excluded.postcode, excluded.city)
"""

UPSERT_ADDRESSES = """
    INSERT INTO geocode_address (ban_id, street_id, numero, rep, postcode, citycode, city, geom)
    SELECT DISTINCT ON (b.id) b.id, s.id, b.numero::int, NULLIF(lower(b.rep), ''),
           NULLIF(b.code_postal, ''), b.code_insee, b.nom_commune,
           ST_SetSRID(ST_MakePoint(b.lon::float8, b.lat::float8), 4326)
    FROM ban_stage b JOIN geocode_street s ON s.street_key = b.code_insee || '|' || b.nom_voie
    ORDER BY b.id
    ON CONFLICT (ban_id) DO UPDATE SET
        street_id = excluded.street_id, numero = excluded.numero, rep = excluded.rep,
        postcode = excluded.postcode, citycode = excluded.citycode, city = excluded.city,
        geom = excluded.geom
    WHERE (geocode_address.street_id, geocode_address.numero, geocode_address.rep,
           geocode_address.postcode, geocode_address.city, geocode_address.geom)
          IS DISTINCT FROM (excluded.street_id, excluded.numero, excluded.rep,
           excluded.postcode, excluded.city, excluded.geom)
"""

# A street's point is the middle of its numbers (a street search lands on it).
STREET_POINTS = """
    UPDATE geocode_street s SET geom = c.g
    FROM (
        SELECT a.street_id, ST_Centroid(ST_Collect(a.geom)) AS g
        FROM geocode_address a
        WHERE a.street_id IN (
            SELECT s2.id FROM geocode_street s2
            WHERE s2.street_key IN (SELECT DISTINCT code_insee || '|' || nom_voie FROM ban_stage)
        )
        GROUP BY a.street_id
    ) c
    WHERE s.id = c.street_id AND s.geom IS DISTINCT FROM c.g
"""


@dataclass
class AddressImport:
    """What one file's import did (printed by the CLI, checked by tests)."""

    path: str
    rows: int = 0
    skipped: int = 0
    streets: int = 0
    addresses: int = 0
    seconds: float = 0.0


def _exists(path: Path) -> None:
    if not path.is_file():
        raise ImportFailed(f"fichier d'adresses introuvable : {path}")


@contextmanager
def _decompressed(raw: IO[bytes], path: Path) -> Iterator[IO[bytes]]:
    if path.name.endswith(".gz"):
        with gzip.GzipFile(fileobj=raw, mode="rb") as gz:
            yield cast(IO[bytes], gz)
    else:
        yield raw


def _check_header(line: bytes, path: Path) -> None:
    header = tuple(line.decode("utf-8-sig", errors="replace").strip().split(";"))
    if header[: len(BAN_COLUMNS)] != BAN_COLUMNS:
        raise ImportFailed(
            f"{path.name} n'est pas un fichier de la Base Adresse Nationale (adresses-XX.csv) : "
            f"en-tête attendu « {';'.join(BAN_COLUMNS[:5])};… », lu « {line[:80]!r} »"
        )


def _copy_file(conn: psycopg.Connection, path: Path, progress: Progress | None) -> int:
    """Stream the file into `ban_stage` through COPY; returns the rows copied."""
    total = path.stat().st_size
    with path.open("rb") as raw, _decompressed(raw, path) as stream:
        try:
            first = stream.readline()
        except (OSError, EOFError) as exc:
            raise ImportFailed(f"{path.name} : fichier illisible ({exc})") from exc
        _check_header(first, path)
        columns = ", ".join(BAN_COLUMNS)
        try:
            with conn.cursor() as cur:
                with cur.copy(
                    f"COPY ban_stage ({columns}) FROM STDIN "
                    "WITH (FORMAT csv, DELIMITER ';', HEADER false, ENCODING 'UTF8')"
                ) as copy:
                    while chunk := stream.read(CHUNK):
                        copy.write(chunk)
                        if progress:
                            progress("lecture", raw.tell(), total)
                return cur.rowcount
        except (OSError, EOFError) as exc:
            raise ImportFailed(f"{path.name} : fichier illisible ({exc})") from exc
        except psycopg.errors.DataError as exc:
            raise ImportFailed(
                f"{path.name} : ligne CSV invalide ({exc.diag.context or exc})"
            ) from exc


def import_addresses(
    conn: psycopg.Connection, path: Path, *, progress: Progress | None = None
) -> AddressImport:
    """Load one BAN file in one transaction (all or nothing), upserting by the BAN id."""
    started = time.perf_counter()
    _exists(path)
    report = AddressImport(path=str(path))
    with conn.transaction():
        # ON COMMIT DROP does not fire when the caller's transaction goes on (a savepoint)
        conn.execute("DROP TABLE IF EXISTS pg_temp.ban_stage")
        conn.execute(
            "CREATE TEMP TABLE ban_stage ("
            + ", ".join(f"{c} text" for c in BAN_COLUMNS)
            + ") ON COMMIT DROP"
        )
        report.rows = _copy_file(conn, path, progress)
        size = path.stat().st_size
        for stage, sql in (
            ("contrôle", DROP_INVALID),
            ("voies", UPSERT_STREETS),
            ("adresses", UPSERT_ADDRESSES),
            ("points des voies", STREET_POINTS),
        ):
            if progress:
                progress(stage, size, size)
            count = conn.execute(sql).rowcount
            if sql is DROP_INVALID:
                report.skipped = count
            elif sql is UPSERT_STREETS:
                report.streets = count
            elif sql is UPSERT_ADDRESSES:
                report.addresses = count
    conn.execute("ANALYZE geocode_street")
    conn.execute("ANALYZE geocode_address")
    report.seconds = time.perf_counter() - started
    return report
