"""Import of offline contributions (workshop, paper, kiosk) from CSV or any vector file.

So that workshop and paper input joins online input in one map and one synthesis.
Each row goes through the same checks as an online contribution (theme, kind,
geometry type, perimeter, constraint layers, personal-data hold); a refused row is
skipped with its reason, the others are stored. Rows are keyed by `id` (or their
line number), so importing the same file twice adds nothing.

Columns (French or English names): titre/title, texte/body, theme, type/kind,
canal/channel, auteur/author, id/ref; geometry from the file, or lon/lat (longitude,
latitude, x, y) columns, or a `wkt` column, in EPSG:4326.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import shapely
from shapely.geometry import mapping
from sqlalchemy import text
from sqlalchemy.engine import Connection

from carto.concertations.constraints import CHECK_SQL, describe
from carto.concertations.geojson import parse_geometry
from carto.concertations.personal_data import hold_reason
from carto.concertations.status import CHANNEL_LABELS
from carto.errors import CartoError, ImportFailed
from carto.vector_files import read_vector_file

ALIASES = {
    "title": ("title", "titre"),
    "body": ("body", "texte", "text", "description"),
    "theme": ("theme", "thème", "theme_slug"),
    "kind": ("kind", "type", "nature"),
    "channel": ("channel", "canal"),
    "author": ("author", "auteur", "author_label"),
    "ref": ("id", "ref", "reference", "référence"),
    "lon": ("lon", "lng", "long", "longitude", "x"),
    "lat": ("lat", "latitude", "y"),
    "wkt": ("wkt", "geometry_wkt", "geom_wkt"),
}


@dataclass
class ContributionImport:
    """What an import did; the CLI prints it, tests check it."""

    read: int = 0
    imported: int = 0
    duplicates: int = 0
    held: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)


def _columns(frame: pd.DataFrame) -> dict[str, str | None]:
    lower = {str(c).lower(): str(c) for c in frame.columns}
    return {
        key: next((lower[a] for a in names if a in lower), None) for key, names in ALIASES.items()
    }


def read_rows(path: Path) -> tuple[pd.DataFrame, list[Any]]:
    """The attribute table and one shapely geometry (or None) per row."""
    if path.suffix.lower() == ".csv":
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, sep=None, engine="python")
        except (OSError, ValueError, pd.errors.ParserError) as exc:
            raise ImportFailed(f"lecture impossible de {path.name} : {exc}") from exc
        cols = _columns(frame)
        if cols["wkt"]:
            geoms = [shapely.from_wkt(v) if v else None for v in frame[cols["wkt"]]]
        elif cols["lon"] and cols["lat"]:
            geoms = [_point(lon, lat) for lon, lat in zip(frame[cols["lon"]], frame[cols["lat"]],
                                                          strict=True)]  # fmt: skip
        else:
            raise ImportFailed("colonnes de position introuvables : lon et lat, ou wkt.")
        return frame, geoms
    frame = read_vector_file(path)
    return pd.DataFrame(frame.drop(columns=frame.geometry.name)), list(frame.geometry.values)


def _point(lon: str, lat: str) -> Any:
    try:
        x, y = float(str(lon).replace(",", ".")), float(str(lat).replace(",", "."))
    except ValueError:
        return None
    return shapely.Point(x, y) if math.isfinite(x) and math.isfinite(y) else None


def _text(row: pd.Series, column: str | None, default: str = "") -> str:
    if column is None:
        return default
    value = row[column]
    return (
        default
        if value is None or (isinstance(value, float) and math.isnan(value))
        else str(value).strip()
    )


def _concertation(conn: Connection, slug: str) -> Any:
    row = conn.execute(
        text("SELECT id, allowed_geometry_types, allowed_kinds FROM concertation WHERE slug = :s"),
        {"s": slug},
    ).first()
    if row is None:
        raise ImportFailed(f"concertation inconnue : {slug}")
    return row


def _check(
    conn: Connection, k: Any, themes: dict[str, int], record: dict[str, Any], geom: Any
) -> dict[str, Any]:
    """The row ready to insert, or CartoError/ValueError naming what is wrong."""
    if record["theme"] not in themes:
        raise ValueError(f"thème inconnu « {record['theme']} »")
    if record["kind"] not in k.allowed_kinds:
        raise ValueError(f"type non accepté « {record['kind']} »")
    if record["channel"] not in CHANNEL_LABELS or record["channel"] == "online":
        raise ValueError(f"canal hors ligne attendu, pas « {record['channel']} »")
    if not record["title"]:
        raise ValueError("titre manquant")
    if geom is None:
        raise ValueError("position manquante ou illisible")
    wkt = parse_geometry(mapping(geom), allowed=k.allowed_geometry_types).wkt
    place = conn.execute(
        text("""SELECT ST_CoveredBy(ST_GeomFromText(:w, 4326), perimeter) AS inside,
                       (SELECT insee FROM commune WHERE ST_Intersects(geom,
                          ST_PointOnSurface(ST_GeomFromText(:w, 4326))) ORDER BY insee LIMIT 1)
                         AS commune
                FROM concertation WHERE id = :k"""),
        {"w": wkt, "k": k.id},
    ).one()
    if not place.inside:
        raise ValueError("hors du périmètre de la concertation")
    notes = []
    for v in conn.execute(CHECK_SQL, {"wkt": wkt, "k": k.id}):
        if v.violated:
            message = describe(v.rule, v.title, v.message, v.distance_m, v.nearest_m)
            if v.action == "reject":
                raise ValueError(message)
            notes.append(message)
    held = hold_reason(record["title"], record["body"], record["author"])
    visibility = "held" if held else "published"
    return {**record, "theme_id": themes[record["theme"]], "wkt": wkt, "commune": place.commune,
            "notes": notes, "hold": held, "visibility": visibility}  # fmt: skip


INSERT_SQL = text(
    """INSERT INTO contribution (concertation_id, theme_id, kind, title, body, geom, commune_insee,
           phase, channel, author_label, entered_by_id, source_ref, visibility, hold_reason,
           flags, constraint_notes, votes_for, votes_against, supports, comments, is_demo)
       VALUES (:k, :theme_id, :kind, :title, :body, ST_GeomFromText(:wkt, 4326), :commune,
           :phase, :channel, :author, :entered_by, :ref, :visibility, :hold,
           '{}', CAST(:notes AS text[]), 0, 0, 0, 0, false)
       ON CONFLICT (concertation_id, source_ref) DO NOTHING RETURNING id"""
)


def import_contributions(
    conn: Connection, slug: str, path: Path, *, entered_by: int | None = None,
    default_channel: str = "paper",
) -> ContributionImport:  # fmt: skip
    """Import the file's rows into the concertation `slug`; the caller commits."""
    k = _concertation(conn, slug)
    archived = conn.execute(
        text("SELECT archived_at IS NOT NULL FROM concertation WHERE id = :k"), {"k": k.id}
    ).scalar()
    if archived:
        raise ImportFailed("concertation archivée : plus aucun ajout possible.")
    frame, geoms = read_rows(path)
    cols = _columns(frame)
    themes: dict[str, int] = dict(
        conn.execute(
            text("SELECT slug, id FROM concertation_theme WHERE concertation_id = :k"), {"k": k.id}
        ).all()
    )
    phase = conn.execute(
        text(
            "SELECT phase FROM concertation_phase WHERE concertation_id = :k "
            "AND starts_at <= now() ORDER BY starts_at DESC LIMIT 1"
        ),  # fmt: skip
        {"k": k.id},
    ).scalar()
    report = ContributionImport(read=len(frame))
    for number, ((_, row), geom) in enumerate(zip(frame.iterrows(), geoms, strict=True), start=1):
        channel = _text(row, cols["channel"], default_channel) or default_channel
        record = {
            "title": _text(row, cols["title"])[:200], "body": _text(row, cols["body"])[:5000],
            "theme": _text(row, cols["theme"]), "kind": _text(row, cols["kind"], "proposition"),
            "channel": channel, "author": _text(row, cols["author"])[:80] or CHANNEL_LABELS.get(
                channel, "Hors ligne"),
            "ref": (_text(row, cols["ref"]) or f"{path.name}:{number}")[:120],
        }  # fmt: skip
        try:
            ready = _check(conn, k, themes, record, geom)
        except (ValueError, CartoError) as exc:
            report.skipped.append(
                (number, exc.message if isinstance(exc, CartoError) else str(exc))
            )
            continue
        inserted = conn.execute(
            INSERT_SQL, {**ready, "k": k.id, "phase": phase, "entered_by": entered_by}
        ).first()
        if inserted is None:
            report.duplicates += 1
        else:
            report.imported += 1
            report.held += ready["visibility"] == "held"
    return report
