"""H3 hexagon counts (GeoJSON) for analysis: how many features per cell, same filters as tiles.

PostGIS selects the points in the bbox through the GiST index (bound filters);
h3-py assigns cells. The bbox and resolution are capped so that an answer stays
small: too many points or cells gives a 413 that says what to change.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import h3

from carto import geo
from carto.errors import InvalidInput, TooLarge
from carto.geo import LngLatBBox
from carto.tiles import sql
from carto.tiles.db import TileDB
from carto.tiles.filters import TileFilters
from carto.tiles.layers import TileLayer

MIN_RESOLUTION = 0
MAX_RESOLUTION = 12
MAX_POINTS = 300_000
MAX_CELLS = 20_000


def parse_bbox(raw: str | None) -> LngLatBBox | None:
    """`west,south,east,north` in degrees within Web Mercator, or None when absent."""
    return geo.parse_bbox(raw, max_lat=geo.MERCATOR_MAX_LAT) if raw else None


def check_resolution(resolution: int) -> int:
    if not MIN_RESOLUTION <= resolution <= MAX_RESOLUTION:
        raise InvalidInput(f"Résolution H3 entre {MIN_RESOLUTION} et {MAX_RESOLUTION} attendue.")
    return resolution


def _points_sql(layer: TileLayer, conditions: str, weight: str | None) -> str:
    w = f"coalesce(v.{weight}, 0)::float8" if weight else "1.0::float8"
    return f"""
        SELECT ST_X(p) AS lon, ST_Y(p) AS lat, w FROM (
            SELECT ST_Transform(ST_PointOnSurface(v.geom_3857), 4326) AS p, {w} AS w
            FROM {layer.source} v
            WHERE v.geom_3857 && ST_Transform(ST_MakeEnvelope(:w, :s, :e, :n, 4326), 3857)
            {conditions}
            LIMIT {MAX_POINTS + 1}) s
    """


def _ring(cell: str) -> list[list[float]]:
    ring = [[round(lng, 7), round(lat, 7)] for lat, lng in h3.cell_to_boundary(cell)]
    return [*ring, ring[0]]


async def hexagon_counts(
    *,
    db: TileDB,
    layer: TileLayer,
    bbox: tuple[float, float, float, float],
    resolution: int,
    filters: TileFilters,
) -> dict[str, Any]:
    """A FeatureCollection of H3 cells with `count` (and `weight` when weighted)."""
    conditions, params = sql.view_conditions(layer, filters)
    west, south, east, north = bbox
    rows = await db.rows(
        _points_sql(layer, conditions, filters.weight),
        params | {"w": west, "s": south, "e": east, "n": north},
    )
    if len(rows) > MAX_POINTS:
        raise TooLarge(f"Plus de {MAX_POINTS} points dans l'emprise : réduisez la bbox.")
    counts: dict[str, int] = defaultdict(int)
    weights: dict[str, float] = defaultdict(float)
    for row in rows:
        lon, lat = row["lon"], row["lat"]
        if not (west <= lon <= east and south <= lat <= north):
            continue
        cell = h3.latlng_to_cell(lat, lon, resolution)
        counts[cell] += 1
        weights[cell] += row["w"]
    if len(counts) > MAX_CELLS:
        raise TooLarge(
            f"Plus de {MAX_CELLS} hexagones : baissez la résolution ou réduisez la bbox."
        )
    features = [
        {
            "type": "Feature",
            "id": cell,
            "geometry": {"type": "Polygon", "coordinates": [_ring(cell)]},
            "properties": {
                "h3": cell,
                "count": count,
                **({"weight": weights[cell]} if filters.weight else {}),
            },
        }
        for cell, count in sorted(counts.items())
    ]
    return {
        "type": "FeatureCollection",
        "features": features,
        "resolution": resolution,
        "bbox": [west, south, east, north],
    }
