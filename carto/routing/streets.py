"""Street context from an OpenStreetMap extract: the nearest street's name and road class.

The extract (`.osm`, `.osm.bz2` or `.osm.pbf`) is read once with pyosmium and its
highways stored as line segments with a GiST index; a report then asks for the
nearest one in true metres (a KNN scan on the index, then geography distances).
The road class lets the competence table route by road type: a `voirie` report
on a route départementale can go to the département.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import osmium
import psycopg
import shapely
from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import BigInteger, DateTime, Integer, String, func, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from carto.db import Base
from carto.errors import ImportFailed, InvalidInput
from carto.geo import LngLatBBox

# Ways a citizen can stand next to and report about; footways etc. are kept too
# (a broken lamp on a footpath is still reported there) but ranked after roads.
HIGHWAYS = {
    "motorway", "trunk", "primary", "secondary", "tertiary", "unclassified", "residential",
    "living_street", "service", "pedestrian", "road", "motorway_link", "trunk_link",
    "primary_link", "secondary_link", "tertiary_link", "footway", "cycleway", "path", "steps",
    "track",
}  # fmt: skip
REF_CLASSES = {"A": "autoroute", "N": "nationale", "D": "departementale", "M": "metropolitaine",
               "C": "communale", "RD": "departementale", "RN": "nationale"}  # fmt: skip
HIGHWAY_CLASSES = {
    "motorway": "autoroute", "motorway_link": "autoroute", "trunk": "nationale",
    "trunk_link": "nationale", "primary": "principale", "primary_link": "principale",
    "secondary": "principale", "secondary_link": "principale", "footway": "chemin",
    "cycleway": "chemin", "path": "chemin", "steps": "chemin", "track": "chemin",
    "service": "desserte",
}  # fmt: skip


# (osm_id, name, ref, highway, road_class, WKB, node ids)
WayRow = tuple[int, str | None, str | None, str, str, bytes, list[int]]


class StreetSegment(Base):
    """One OSM highway way, as a LineString in EPSG:4326."""

    __tablename__ = "street_segment"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    osm_id: Mapped[int] = mapped_column(BigInteger, index=True)
    name: Mapped[str | None] = mapped_column(String(300))
    ref: Mapped[str | None] = mapped_column(String(100))
    highway: Mapped[str] = mapped_column(String(40))
    road_class: Mapped[str] = mapped_column(String(40), index=True)
    geom: Mapped[WKBElement] = mapped_column(Geometry("LINESTRING", srid=4326, spatial_index=True))
    node_ids: Mapped[list[int] | None] = mapped_column(
        ARRAY(BigInteger), doc="OSM node ids, one per vertex: ways meet where they share one"
    )


class StreetImport(Base):
    """Which extract is loaded (by content hash), so it is loaded once."""

    __tablename__ = "street_import"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(String(1000))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    segments: Mapped[int] = mapped_column(Integer)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


@dataclass(frozen=True)
class Street:
    """The street next to a report."""

    name: str | None
    ref: str | None
    highway: str
    road_class: str
    distance_m: float
    osm_id: int


def road_class(highway: str, ref: str | None) -> str:
    """French road class from the OSM `ref` (D 700 -> departementale), else from `highway`."""
    if ref:
        letters = re.match(r"[A-Z]+", ref.split(";")[0].strip().upper())
        if letters and letters.group() in REF_CLASSES:
            return REF_CLASSES[letters.group()]
    return HIGHWAY_CLASSES.get(highway, "locale")


class _WayReader(osmium.SimpleHandler):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[WayRow] = []
        self._wkb = osmium.geom.WKBFactory()

    def way(self, way: osmium.osm.Way) -> None:
        highway = way.tags.get("highway")
        if highway not in HIGHWAYS or len(way.nodes) < 2:
            return
        try:
            wkb_hex = self._wkb.create_linestring(way)
        except Exception:  # noqa: BLE001 - ways with missing nodes at the extract's edge
            return
        ref = way.tags.get("ref")
        nodes = _vertex_nodes(way)
        self.rows.append(
            (way.id, way.tags.get("name"), ref, highway, road_class(highway, ref),
             bytes.fromhex(wkb_hex), nodes)
        )  # fmt: skip


def _vertex_nodes(way: osmium.osm.Way) -> list[int]:
    """The node ids of the way's vertices: the linestring drops repeated locations, so do we."""
    nodes: list[int] = []
    last: tuple[int, int] | None = None
    for node in way.nodes:
        at = (node.x, node.y)
        if node.location.valid() and at != last:
            nodes.append(node.ref)
            last = at
    return nodes


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_ways(path: Path) -> Iterator[WayRow]:
    """Highway ways of an OSM file as (osm_id, name, ref, highway, road_class, WKB, node ids)."""
    reader = _WayReader()
    try:
        reader.apply_file(str(path), locations=True)
    except RuntimeError as exc:
        raise ImportFailed(f"lecture OSM impossible ({path.name}) : {exc}") from exc
    yield from reader.rows


def load_streets(conn: psycopg.Connection, path: Path, *, force: bool = False) -> int:
    """Replace the street table with the highways of `path`; skipped when already loaded.

    Returns the number of segments loaded (0 when the same file was loaded before)."""
    if not path.is_file():
        raise ImportFailed(f"fichier OSM introuvable : {path}")
    sha = _sha256(path)
    with conn.transaction():
        if (
            not force
            and conn.execute(
                # loaded before node ids were kept (migration t002): load again
                "SELECT 1 FROM street_import WHERE sha256 = %s AND NOT EXISTS"
                " (SELECT 1 FROM street_segment WHERE node_ids IS NULL)",
                (sha,),
            ).fetchone()
        ):
            return 0
        conn.execute("TRUNCATE street_segment, street_import")
        count = 0
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY street_segment (osm_id, name, ref, highway, road_class, geom, node_ids)"
                " FROM STDIN"
            ) as copy,
        ):
            for osm_id, name, ref, highway, klass, wkb, nodes in read_ways(path):
                copy.write_row((osm_id, name, ref, highway, klass, _ewkb_hex(wkb), nodes))
                count += 1
        conn.execute(
            "INSERT INTO street_import (path, sha256, segments) VALUES (%s, %s, %s)",
            (str(path), sha, count),
        )
    conn.execute("ANALYZE street_segment")
    return count


def _ewkb_hex(wkb: bytes) -> str:
    """Hex EWKB with SRID 4326, the text form PostGIS accepts for a geometry column in COPY."""
    geom = shapely.from_wkb(wkb)
    return shapely.to_wkb(shapely.set_srid(geom, 4326), hex=True, include_srid=True)


NEAREST_SQL = text(
    """
    WITH p AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g),
    near AS (
        SELECT s.osm_id, s.name, s.ref, s.highway, s.road_class, s.geom
        FROM street_segment s, p ORDER BY s.geom <-> p.g LIMIT 8
    )
    SELECT n.osm_id, n.name, n.ref, n.highway, n.road_class,
           ST_Distance(n.geom::geography, p.g::geography) AS d
    FROM near n, p
    WHERE ST_DWithin(n.geom::geography, p.g::geography, :max_m)
    ORDER BY (n.road_class = 'chemin'), d
    LIMIT 1
    """
)


async def nearest_street(
    *, session: AsyncSession, lon: float, lat: float, max_distance_m: float = 50
) -> Street | None:
    """The street nearest to (lon, lat) within `max_distance_m` metres, roads before paths."""
    row = (
        await session.execute(NEAREST_SQL, {"lon": lon, "lat": lat, "max_m": max_distance_m})
    ).first()
    if row is None:
        return None
    return Street(
        name=row.name, ref=row.ref, highway=row.highway, road_class=row.road_class,
        distance_m=float(row.d), osm_id=int(row.osm_id),
    )  # fmt: skip


async def has_streets(*, session: AsyncSession) -> bool:
    """Whether an extract is loaded (routing by road class only applies then)."""
    return bool(
        (await session.execute(text("SELECT EXISTS (SELECT 1 FROM street_segment)"))).scalar()
    )


# The map's own base at street zoom (GET /api/v1/streets): OSM data, no personal data;
# the box is capped so that a call stays a small answer.
MAX_STREET_BOX_DEG2 = 0.01
STREET_LIMIT = 5000
_STREETS_SQL = text(
    """
    SELECT coalesce(json_agg(json_build_object(
        'type', 'Feature',
        'properties', json_build_object('name', name, 'road_class', road_class),
        'geometry', ST_AsGeoJSON(geom, 6)::json)), '[]'::json)
    FROM (SELECT name, road_class, geom FROM street_segment
          WHERE geom && ST_MakeEnvelope(:w, :s, :e, :n, 4326) LIMIT :limit) AS x
    """
)


async def street_features(*, session: AsyncSession, bbox: LngLatBBox) -> list[object]:
    """The street lines inside `bbox` as GeoJSON features; InvalidInput when the box is
    wider than a street-zoom view."""
    w, s, e, n = bbox
    if (e - w) * (n - s) > MAX_STREET_BOX_DEG2:
        raise InvalidInput("Zone trop grande : les rues s'affichent au zoom de la rue.")
    params = {"w": w, "s": s, "e": e, "n": n, "limit": STREET_LIMIT}
    features: list[object] = await session.scalar(_STREETS_SQL, params)
    return features
