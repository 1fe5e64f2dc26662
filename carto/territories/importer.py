"""Territory import: any vector file of communes or intercommunalities, upserted by code.

Reads with pyogrio, reprojects to EPSG:4326, repairs invalid polygons, streams
rows into a temporary table with COPY and upserts from there in a few
set-based statements, so that the whole of France (35,000 communes) loads in
seconds and a second import of the same file changes nothing but `updated_at`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import shapely

from carto.errors import ImportFailed
from carto.geo import repair_polygons, slugify
from carto.vector_files import read_vector_file

# Accepted column names, first match wins (our data, IGN ADMIN EXPRESS, geo.api.gouv.fr).
COMMUNE_COLUMNS = {
    "insee": ("insee", "INSEE_COM", "code_insee", "codgeo", "code"),
    "nom": ("nom", "NOM", "NOM_COM", "libelle", "name"),
    "type": ("type", "TYPE"),
    "population": ("population", "POPULATION", "pop"),
    "epci_siren": ("epci_siren", "SIREN_EPCI", "codeEpci", "epci"),
    "parent_insee": ("parent_insee", "INSEE_COM_PARENT", "INSEE_RATT"),
}
INTERCO_COLUMNS = {
    "siren": ("siren", "CODE_SIREN", "SIREN", "code_siren"),
    "nom": ("nom", "NOM", "name", "libelle"),
    "kind": ("type", "nature", "NATURE", "kind"),
}
CHUNK = 2000

Progress = Callable[[str, int, int], None]


@dataclass
class ImportReport:
    """What an import did, printed by the CLI and checked by tests."""

    path: str
    kind: str
    read: int = 0
    repaired: int = 0
    skipped: int = 0
    upserted: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds per phase, in order

    def lap(self, phase: str, since: float) -> float:
        """Record `phase` as the time from `since` to now; returns now (the next start)."""
        now = time.perf_counter()
        self.phases[phase] = self.phases.get(phase, 0.0) + now - since
        return now


def _pick(frame: pd.DataFrame, aliases: Mapping[str, tuple[str, ...]]) -> dict[str, str | None]:
    lower = {c.lower(): c for c in frame.columns}
    return {
        key: next((lower[a.lower()] for a in names if a.lower() in lower), None)
        for key, names in aliases.items()
    }


def detect_kind(frame: pd.DataFrame) -> str:
    """'communes' or 'intercommunalites', from the columns the file carries."""
    interco = _pick(frame, INTERCO_COLUMNS)
    commune = _pick(frame, COMMUNE_COLUMNS)
    if commune["insee"] and commune["nom"]:
        return "communes"
    if interco["siren"] and interco["nom"]:
        return "intercommunalites"
    raise ImportFailed(
        "colonnes non reconnues : il faut `insee` et `nom` (communes) "
        "ou `siren` et `nom` (intercommunalités) ; trouvées : " + ", ".join(frame.columns[:20])
    )


def _text(series: pd.Series | None, size: int, *, zfill: int = 0) -> list[str | None]:
    if series is None:
        return [None] * size
    out: list[str | None] = []
    for value in series:
        if value is None or (isinstance(value, float) and pd.isna(value)) or value == "":
            out.append(None)
        else:
            text = str(value).strip()
            if text.endswith(".0") and text[:-2].isdigit():
                text = text[:-2]
            out.append(text.zfill(zfill) if zfill else text)
    return out


def _prepare(frame: gpd.GeoDataFrame, report: ImportReport) -> tuple[np.ndarray, np.ndarray]:
    """Repaired geometries and their WKB (None where there is no geometry)."""
    geoms, repaired = repair_polygons(frame.geometry.values)
    report.repaired = repaired
    return geoms, shapely.to_wkb(geoms, hex=False, include_srid=False)


def _copy_rows(
    conn: psycopg.Connection, table: str, columns: list[str], rows: Iterable[tuple[object, ...]],
    total: int, progress: Progress | None,
) -> None:  # fmt: skip
    done = 0
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            done += 1
            if progress and done % CHUNK == 0:
                progress("chargement", done, total)
    if progress:
        progress("chargement", total, total)


def _assign_slugs(
    conn: psycopg.Connection, kind: str, codes: list[str], names: list[str]
) -> list[str]:
    """A unique slug per authority: the name's slug, or `slug-code` when another body has it."""
    taken = {
        slug: (k, c)
        for slug, k, c in conn.execute("SELECT slug, kind, code FROM authority").fetchall()
    }
    base = [slugify(n) or c for n, c in zip(names, codes, strict=True)]
    counts: dict[str, int] = {}
    for slug in base:
        counts[slug] = counts.get(slug, 0) + 1
    slugs = []
    for slug, code in zip(base, codes, strict=True):
        owner = taken.get(slug)
        clash = counts[slug] > 1 or (owner is not None and owner != (kind, code))
        slugs.append(f"{slug}-{code}" if clash else slug)
    return slugs


def import_communes(
    conn: psycopg.Connection, frame: gpd.GeoDataFrame, report: ImportReport,
    progress: Progress | None = None,
) -> tuple[list[str], list[str | None], np.ndarray]:  # fmt: skip
    """Upsert the communes and arrondissements of `frame`; returns the communes written
    (INSEE codes, EPCI SIRENs, geometries as stored), for the national import's unions."""
    cols = _pick(frame, COMMUNE_COLUMNS)
    n = len(frame)
    insee = _text(frame[cols["insee"]], n, zfill=5)
    nom = _text(frame[cols["nom"]], n)
    kind = _text(frame[cols["type"]] if cols["type"] else None, n)
    pop_col = frame[cols["population"]] if cols["population"] else None
    population: list[int | None] = (
        [None if pd.isna(v) else int(float(v)) for v in pop_col]
        if pop_col is not None
        else [None] * n
    )
    epci = _text(frame[cols["epci_siren"]] if cols["epci_siren"] else None, n)
    parent = _text(frame[cols["parent_insee"]] if cols["parent_insee"] else None, n, zfill=5)
    geoms, wkb = _prepare(frame, report)
    is_arm = [
        k == "ARM" or (p is not None and k != "COM") for k, p in zip(kind, parent, strict=True)
    ]
    keep = [i for i in range(n) if insee[i] and nom[i] and wkb[i] is not None]
    report.skipped = n - len(keep)
    com_idx = [i for i in keep if not is_arm[i]]
    slugs = _assign_slugs(
        conn, "commune", [str(insee[i]) for i in com_idx], [str(nom[i]) for i in com_idx]
    )
    slug_of = dict(zip(com_idx, slugs, strict=True))
    conn.execute("DROP TABLE IF EXISTS tmp_commune")
    conn.execute(
        """CREATE TEMP TABLE tmp_commune (
            insee text, nom text, is_arm boolean, population integer, epci_siren text,
            parent_insee text, slug text, wkb bytea) ON COMMIT DROP"""
    )
    rows = (
        (insee[i], nom[i], is_arm[i], population[i], epci[i], parent[i], slug_of.get(i), wkb[i])
        for i in keep
    )
    _copy_rows(
        conn, "tmp_commune",
        ["insee", "nom", "is_arm", "population", "epci_siren", "parent_insee", "slug", "wkb"],
        rows, len(keep), progress,
    )  # fmt: skip
    if progress:
        progress("mise à jour", 0, 1)
    report.upserted["authorities"] = conn.execute(
        """INSERT INTO authority (slug, name, kind, code)
           SELECT slug, nom, 'commune', insee FROM tmp_commune WHERE NOT is_arm
           ON CONFLICT (kind, code) DO UPDATE SET name = EXCLUDED.name
           WHERE authority.name IS DISTINCT FROM EXCLUDED.name"""
    ).rowcount
    report.upserted["communes"] = conn.execute(
        """INSERT INTO commune (insee, nom, population, departement, epci_siren, authority_id, geom)
           SELECT t.insee, t.nom, t.population,
                  CASE WHEN t.insee LIKE '97%' THEN left(t.insee, 3) ELSE left(t.insee, 2) END,
                  t.epci_siren, a.id, ST_SetSRID(ST_GeomFromWKB(t.wkb), 4326)
           FROM tmp_commune t JOIN authority a ON a.kind = 'commune' AND a.code = t.insee
           WHERE NOT t.is_arm
           ON CONFLICT (insee) DO UPDATE SET nom = EXCLUDED.nom, population = EXCLUDED.population,
               departement = EXCLUDED.departement, epci_siren = EXCLUDED.epci_siren,
               authority_id = EXCLUDED.authority_id, geom = EXCLUDED.geom, updated_at = now()"""
    ).rowcount
    missing_parent = conn.execute(
        """SELECT count(*) FROM tmp_commune t WHERE t.is_arm
           AND NOT EXISTS (SELECT 1 FROM commune c WHERE c.insee = t.parent_insee)"""
    ).fetchone()
    report.skipped += int(missing_parent[0]) if missing_parent else 0
    report.upserted["arrondissements"] = conn.execute(
        """INSERT INTO arrondissement (insee, nom, population, commune_insee, geom)
           SELECT t.insee, t.nom, t.population, t.parent_insee,
                  ST_SetSRID(ST_GeomFromWKB(t.wkb), 4326)
           FROM tmp_commune t JOIN commune c ON c.insee = t.parent_insee WHERE t.is_arm
           ON CONFLICT (insee) DO UPDATE SET nom = EXCLUDED.nom, population = EXCLUDED.population,
               commune_insee = EXCLUDED.commune_insee, geom = EXCLUDED.geom, updated_at = now()"""
    ).rowcount
    refresh_memberships(conn)
    return [str(insee[i]) for i in com_idx], [epci[i] for i in com_idx], geoms[com_idx]


def import_intercommunalites(
    conn: psycopg.Connection, frame: gpd.GeoDataFrame, report: ImportReport,
    progress: Progress | None = None,
) -> None:  # fmt: skip
    cols = _pick(frame, INTERCO_COLUMNS)
    n = len(frame)
    siren = _text(frame[cols["siren"]], n)
    nom = _text(frame[cols["nom"]], n)
    kind = _text(frame[cols["kind"]] if cols["kind"] else None, n)
    _, wkb = _prepare(frame, report)
    keep = [i for i in range(n) if siren[i] and nom[i]]
    report.skipped = n - len(keep)
    slugs = _assign_slugs(
        conn,
        "intercommunalite",
        [str(siren[i]) for i in keep],
        [str(nom[i]) for i in keep],
    )
    conn.execute("DROP TABLE IF EXISTS tmp_interco")
    conn.execute(
        """CREATE TEMP TABLE tmp_interco (siren text, nom text, kind text, slug text, wkb bytea)
           ON COMMIT DROP"""
    )
    rows = (
        (siren[i], nom[i], kind[i] or "EPCI", slug, wkb[i])
        for i, slug in zip(keep, slugs, strict=True)
    )
    _copy_rows(
        conn, "tmp_interco", ["siren", "nom", "kind", "slug", "wkb"], rows, len(keep), progress
    )
    report.upserted["authorities"] = conn.execute(
        """INSERT INTO authority (slug, name, kind, code)
           SELECT slug, nom, 'intercommunalite', siren FROM tmp_interco
           ON CONFLICT (kind, code) DO UPDATE SET name = EXCLUDED.name
           WHERE authority.name IS DISTINCT FROM EXCLUDED.name"""
    ).rowcount
    report.upserted["intercommunalites"] = conn.execute(
        """INSERT INTO intercommunalite (siren, nom, kind, authority_id, geom)
           SELECT t.siren, t.nom, t.kind, a.id,
                  CASE WHEN t.wkb IS NULL THEN NULL ELSE ST_SetSRID(ST_GeomFromWKB(t.wkb), 4326) END
           FROM tmp_interco t JOIN authority a ON a.kind = 'intercommunalite' AND a.code = t.siren
           ON CONFLICT (siren) DO UPDATE SET nom = EXCLUDED.nom, kind = EXCLUDED.kind,
               authority_id = EXCLUDED.authority_id, geom = EXCLUDED.geom, updated_at = now()"""
    ).rowcount
    refresh_memberships(conn, only_siren=[siren[i] for i in keep])  # type: ignore[misc]


def refresh_memberships(conn: psycopg.Connection, only_siren: list[str] | None = None) -> None:
    """Members of each intercommunality: the communes that name it as their EPCI, plus
    the communes lying inside its geometry (an EPT such as GPSO is not anyone's EPCI)."""
    where = "WHERE i.siren = ANY(%(only)s)" if only_siren is not None else ""
    if only_siren is not None:
        conn.execute(
            "DELETE FROM intercommunalite_member WHERE siren = ANY(%(only)s)", {"only": only_siren}
        )
    conn.execute(
        f"""INSERT INTO intercommunalite_member (siren, insee)
            SELECT i.siren, c.insee FROM intercommunalite i JOIN commune c ON c.epci_siren = i.siren
            {where}
            UNION
            SELECT i.siren, c.insee FROM intercommunalite i
            JOIN commune c ON i.geom && c.geom AND ST_Covers(i.geom, ST_PointOnSurface(c.geom))
            {where}
            ON CONFLICT DO NOTHING""",
        {"only": only_siren},
    )


def import_file(
    conn: psycopg.Connection, path: Path, *, progress: Progress | None = None
) -> ImportReport:
    """Import one file in one transaction (all or nothing)."""
    started = time.perf_counter()
    if progress:
        progress("lecture", 0, 1)
    frame = read_vector_file(path)
    kind = detect_kind(frame)
    report = ImportReport(path=str(path), kind=kind, read=len(frame))
    with conn.transaction():
        if kind == "communes":
            import_communes(conn, frame, report, progress)
        else:
            import_intercommunalites(conn, frame, report, progress)
    conn.execute("ANALYZE commune; ANALYZE intercommunalite; ANALYZE arrondissement")
    report.seconds = time.perf_counter() - started
    return report
