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

# The deployment's extent: where territories are, hence where any feature can be; and a
# centre that is on a territory (the most populous commune), not the middle of the box:
# with Lille, Lyon and Boulogne the box's middle is an empty field in the Yonne.
EXTENT_SQL = """
    SELECT ST_XMin(b) AS w, ST_YMin(b) AS s, ST_XMax(b) AS e, ST_YMax(b) AS n,
           ST_X(c) AS cx, ST_Y(c) AS cy
    FROM (
        SELECT ST_Transform(ST_SetSRID(ST_Extent(geom_3857)::geometry, 3857), 4326)::box2d AS b
        FROM tiles.polygon_geom WHERE layer = 'communes' AND band = 0) s
    LEFT JOIN LATERAL (
        SELECT ST_PointOnSurface(geom) AS c FROM public_layers.communes
        ORDER BY population DESC NULLS LAST, insee LIMIT 1) m ON true
"""

Bounds = tuple[float, float, float, float]
_extent_cache: dict[str, tuple[float, tuple[Bounds, tuple[float, float]]]] = {}


async def deployment_extent(db: TileDB) -> tuple[Bounds, tuple[float, float]]:
    """(west, south, east, north) of the territories and a (lon, lat) centre inside one,
    cached for a few minutes."""
    hit = _extent_cache.get("extent")
    if hit and time.monotonic() - hit[0] < BOUNDS_TTL_S:
        return hit[1]
    row = await db.row(EXTENT_SQL, {})
    bounds: Bounds = WORLD
    if row is not None and row["w"] is not None:
        bounds = (row["w"], row["s"], row["e"], row["n"])
    bounds = tuple(round(v, 6) for v in bounds)  # type: ignore[assignment]
    if row is not None and row["cx"] is not None:
        centre = (round(row["cx"], 6), round(row["cy"], 6))
    else:
        centre = (round((bounds[0] + bounds[2]) / 2, 6), round((bounds[1] + bounds[3]) / 2, 6))
    _extent_cache["extent"] = (time.monotonic(), (bounds, centre))
    return bounds, centre


async def deployment_bounds(db: TileDB) -> Bounds:
    """(west, south, east, north) of the territories, cached for a few minutes."""
    return (await deployment_extent(db))[0]


def tilejson(
    layer: TileLayer,
    *,
    base_url: str,
    bounds: Bounds,
    centre: tuple[float, float] | None = None,
    query: dict[str, str],
) -> dict[str, Any]:
    """The TileJSON of `layer`; `query` (its filters) is carried into the tile URL.
    `centre` (lon, lat) is where a client opens: on a territory, at city zoom."""
    suffix = f"?{urlencode(sorted(query.items()))}" if query else ""
    west, south, east, north = bounds
    if centre is None:
        centre = (round((west + east) / 2, 6), round((south + north) / 2, 6))
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
        "center": [centre[0], centre[1], max(layer.minzoom, min(10, layer.maxzoom))],
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
