"""TileJSON 3.0.0 documents for the layers, with the deployment's bounds."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from carto.tiles.db import TileDB
from carto.tiles.layers import TileLayer

WORLD = (-180.0, -85.0511, 180.0, 85.0511)
BOUNDS_TTL_S = 300.0
ATTRIBUTION = "Carto — limites administratives : IGN Admin Express"

# The deployment's extent: where territories are, hence where any feature can be.
BOUNDS_SQL = """
    SELECT ST_XMin(b) AS w, ST_YMin(b) AS s, ST_XMax(b) AS e, ST_YMax(b) AS n FROM (
        SELECT ST_Transform(ST_SetSRID(ST_Extent(geom_3857)::geometry, 3857), 4326)::box2d AS b
        FROM tiles.polygon_geom WHERE layer = 'communes' AND band = 0) s
"""

_bounds_cache: dict[str, tuple[float, tuple[float, float, float, float]]] = {}


async def deployment_bounds(db: TileDB) -> tuple[float, float, float, float]:
    """(west, south, east, north) of the territories, cached for a few minutes."""
    hit = _bounds_cache.get("bounds")
    if hit and time.monotonic() - hit[0] < BOUNDS_TTL_S:
        return hit[1]
    row = await db.row(BOUNDS_SQL, {})
    bounds = WORLD if row is None or row["w"] is None else (row["w"], row["s"], row["e"], row["n"])
    bounds = tuple(round(v, 6) for v in bounds)  # type: ignore[assignment]
    _bounds_cache["bounds"] = (time.monotonic(), bounds)
    return bounds


def tilejson(
    layer: TileLayer,
    *,
    base_url: str,
    bounds: tuple[float, float, float, float],
    query: dict[str, str],
) -> dict[str, Any]:
    """The TileJSON of `layer`; `query` (its filters) is carried into the tile URL."""
    suffix = f"?{urlencode(sorted(query.items()))}" if query else ""
    west, south, east, north = bounds
    centre_zoom = 10 if (east - west) < 5 else 5
    return {
        "tilejson": "3.0.0",
        "name": layer.name,
        "description": layer.description,
        "attribution": ATTRIBUTION,
        "scheme": "xyz",
        "tiles": [f"{base_url.rstrip('/')}/tiles/{layer.name}/{{z}}/{{x}}/{{y}}.mvt{suffix}"],
        "minzoom": layer.minzoom,
        "maxzoom": layer.maxzoom,
        "bounds": [west, south, east, north],
        "center": [round((west + east) / 2, 6), round((south + north) / 2, 6), centre_zoom],
        "vector_layers": [
            {
                "id": layer.name,
                "description": layer.title,
                "minzoom": layer.minzoom,
                "maxzoom": layer.maxzoom,
                "fields": dict(layer.properties),
            }
        ],
    }
