"""Pure geometry helpers (no I/O): repair, type coercion, slugs for place names, the
one parser of `west,south,east,north` boxes that every route uses."""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from carto.errors import InvalidInput
from carto.parsing import finite_numbers

# Web Mercator's latitude limit (tiles, H3 hexagons over the map's extent).
MERCATOR_MAX_LAT = 85.06


class LngLatBBox(NamedTuple):
    """west, south, east, north in WGS84 degrees (a tuple, so it unpacks as one)."""

    west: float
    south: float
    east: float
    north: float


def parse_bbox(text: str, *, max_lat: float = 90.0, allow_flat: bool = False) -> LngLatBBox:
    """`west,south,east,north` in degrees, or InvalidInput (a 422 in French).

    West must lie below east and south below north; `allow_flat` accepts a box of zero
    width or height (OGC items' filters do); `max_lat` narrows latitudes (Web Mercator)."""
    try:
        west, south, east, north = finite_numbers(text, 4)
    except ValueError:
        raise InvalidInput("bbox : quatre nombres attendus, ouest,sud,est,nord.") from None
    if not (-180 <= west <= 180 and -180 <= east <= 180):
        raise InvalidInput("bbox invalide : longitudes entre -180 et 180.")
    if not (-max_lat <= south <= max_lat and -max_lat <= north <= max_lat):
        raise InvalidInput(f"bbox invalide : latitudes entre -{max_lat:g} et {max_lat:g}.")
    if west > east or south > north or (not allow_flat and (west == east or south == north)):
        raise InvalidInput("bbox invalide : l'ouest avant l'est et le sud avant le nord.")
    return LngLatBBox(west, south, east, north)


def slugify(name: str) -> str:
    """Lower-case ASCII with hyphens: "Villeneuve-d'Ascq" -> "villeneuve-d-ascq"."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")


def as_multipolygon(geom: BaseGeometry | None) -> MultiPolygon | None:
    """The polygonal part of `geom` as a MultiPolygon (None when it has no area)."""
    if geom is None or geom.is_empty:
        return None
    if isinstance(geom, MultiPolygon):
        return geom
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    parts = [
        poly
        for part in getattr(geom, "geoms", [])
        for poly in ([part] if isinstance(part, Polygon) else getattr(part, "geoms", []))
        if isinstance(poly, Polygon) and not poly.is_empty
    ]
    return MultiPolygon(parts) if parts else None


def repair_polygons(geoms: np.ndarray) -> tuple[np.ndarray, int]:
    """Valid MultiPolygons for an array of geometries, and how many needed `make_valid`."""
    geoms = shapely.force_2d(geoms)
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        geoms = geoms.copy()
        geoms[invalid] = shapely.make_valid(geoms[invalid])
    fixed = np.array([as_multipolygon(g) for g in geoms], dtype=object)
    return fixed, int(invalid.sum())
