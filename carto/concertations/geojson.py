"""Strict reading of a GeoJSON geometry sent by a client (no I/O).

Every refusal names what is wrong in French, so the 422 answer helps the person
who drew it: wrong type, missing or non-numeric coordinates, NaN or infinity,
longitude/latitude out of range, unclosed or self-intersecting rings, too many
vertices, or a shape far too large for a contribution.
"""

from __future__ import annotations

import math
from typing import Any

import shapely
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from carto.errors import InvalidInput

MAX_VERTICES = 5000
MAX_RINGS = 50
# A contribution is a place, a street or a block, not a region: about 50 km across at most.
MAX_EXTENT_DEG = 0.7

GEOS_REASONS = {
    "self-intersection": "le contour se recoupe lui-même",
    "ring self-intersection": "un anneau se recoupe lui-même",
    "hole lies outside shell": "un trou sort du contour",
    "holes are nested": "des trous sont imbriqués",
    "interior is disconnected": "l'intérieur est coupé en morceaux",
    "nested shells": "des contours sont imbriqués",
    "too few points": "trop peu de points",
}

TYPE_LABELS = {"Point": "un point", "LineString": "une ligne", "Polygon": "une zone (polygone)"}


def _fail(message: str) -> InvalidInput:
    return InvalidInput(f"Géométrie invalide : {message}")


def _position(value: Any) -> tuple[float, float]:
    if not isinstance(value, list | tuple) or len(value) not in (2, 3):
        raise _fail("chaque position doit être [longitude, latitude].")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        raise _fail("les coordonnées doivent être des nombres.")
    lon, lat = float(value[0]), float(value[1])
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise _fail("coordonnée non finie (NaN ou infini).")
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise _fail(
            "coordonnée hors limites : la longitude va de -180 à 180 et la latitude de -90 à 90 "
            "(ordre attendu : longitude, latitude)."
        )
    return lon, lat


def _positions(value: Any, *, minimum: int, what: str) -> list[tuple[float, float]]:
    if not isinstance(value, list):
        raise _fail(f"{what} : une liste de positions est attendue.")
    if len(value) > MAX_VERTICES:
        raise _fail(f"{what} : trop de sommets (au plus {MAX_VERTICES}).")
    points = [_position(v) for v in value]
    if len(set(points)) < minimum:
        raise _fail(f"{what} : au moins {minimum} positions distinctes sont nécessaires.")
    return points


def _ring(value: Any) -> list[tuple[float, float]]:
    ring = _positions(value, minimum=3, what="anneau de polygone")
    if len(ring) < 4 or ring[0] != ring[-1]:
        raise _fail("chaque anneau de polygone doit être fermé (dernière position = première).")
    return ring


def _build(kind: str, coordinates: Any) -> BaseGeometry:
    if kind == "Point":
        return Point(_position(coordinates))
    if kind == "LineString":
        return LineString(_positions(coordinates, minimum=2, what="ligne"))
    if not isinstance(coordinates, list) or not coordinates:
        raise _fail("un polygone est une liste d'anneaux.")
    if len(coordinates) > MAX_RINGS:
        raise _fail(f"trop d'anneaux (au plus {MAX_RINGS}).")
    rings = [_ring(r) for r in coordinates]
    if sum(len(r) for r in rings) > MAX_VERTICES:
        raise _fail(f"trop de sommets (au plus {MAX_VERTICES}).")
    return Polygon(rings[0], rings[1:])


def parse_geometry(value: Any, *, allowed: tuple[str, ...] | list[str]) -> BaseGeometry:
    """A valid shapely geometry of an allowed type, or InvalidInput saying why not."""
    if not isinstance(value, dict):
        raise _fail("un objet GeoJSON « geometry » est attendu.")
    kind = value.get("type")
    if kind not in TYPE_LABELS:
        raise _fail(
            f"type « {str(kind)[:40]} » non pris en charge ; types acceptés : Point, LineString, "
            "Polygon."
        )
    if kind not in allowed:
        wanted = ", ".join(TYPE_LABELS.get(t, t) for t in allowed)
        raise InvalidInput(
            f"Cette concertation n'accepte pas {TYPE_LABELS[kind]} : dessinez {wanted}.",
            allowed_geometry_types=list(allowed),
        )
    if "coordinates" not in value:
        raise _fail("le membre « coordinates » manque.")
    geom = _build(kind, value["coordinates"])
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom).split("[")[0].strip().lower()
        raise _fail(f"la forme n'est pas valide ({GEOS_REASONS.get(reason, reason)}).")
    west, south, east, north = geom.bounds
    if east - west > MAX_EXTENT_DEG or north - south > MAX_EXTENT_DEG:
        raise _fail("la forme est trop étendue pour une contribution (environ 50 km au plus).")
    return geom


def parse_perimeter(value: Any) -> BaseGeometry:
    """A valid Polygon or MultiPolygon drawn as a concertation perimeter (no size cap)."""
    if not isinstance(value, dict) or value.get("type") not in ("Polygon", "MultiPolygon"):
        raise _fail("le périmètre doit être un Polygon ou un MultiPolygon GeoJSON.")
    coordinates = value.get("coordinates")
    if value["type"] == "Polygon":
        geom = _build("Polygon", coordinates)
    else:
        if not isinstance(coordinates, list) or not coordinates or len(coordinates) > MAX_RINGS:
            raise _fail(f"un MultiPolygon est une liste de 1 à {MAX_RINGS} polygones.")
        geom = shapely.MultiPolygon([_build("Polygon", part) for part in coordinates])
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom).split("[")[0].strip().lower()
        raise _fail(f"le périmètre n'est pas valide ({GEOS_REASONS.get(reason, reason)}).")
    return geom
