"""Pure geometry helpers (no I/O): repair, type coercion, slugs for place names."""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry


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
