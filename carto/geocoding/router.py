"""`GET /api/v1/geocode` and `/api/v1/geocode/reverse`, answered as the national address
API answers (a GeoJSON FeatureCollection of BAN-shaped features), whichever provider."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from carto.deps import PublicSessionDep
from carto.geocoding.builtin import BuiltinGeocoder
from carto.geocoding.external import ExternalGeocoder
from carto.geocoding.provider import MAX_LIMIT, Geocoder, feature_collection, parse_query
from carto.settings import Settings

router = APIRouter(tags=["géocodage"])

Lon = Annotated[float | None, Query(ge=-180, le=180, description="Longitude (WGS84)")]
Lat = Annotated[float | None, Query(ge=-90, le=90, description="Latitude (WGS84)")]


def make_geocoder(settings: Settings) -> Geocoder:
    """`CARTO_GEOCODER_URL` set: that BAN-compatible service; unset: PostGIS."""
    if settings.geocoder_url:
        return ExternalGeocoder(settings.geocoder_url, timeout_s=settings.geocoder_timeout_s)
    return BuiltinGeocoder()


def _geocoder(request: Request) -> Geocoder:
    geocoder: Geocoder | None = getattr(request.app.state, "geocoder", None)
    if geocoder is None:
        geocoder = request.app.state.geocoder = make_geocoder(request.app.state.settings)
    return geocoder


@router.get("/geocode")
async def geocode(
    request: Request,
    session: PublicSessionDep,
    q: Annotated[str | None, Query(description="Adresse, rue, commune ou code postal")] = None,
    lon: Lon = None,
    lat: Lat = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 5,
) -> dict[str, Any]:
    """Places matching `q`, best first; `lon`/`lat` (the map view) favour nearby ones."""
    query = parse_query(q, lon=lon, lat=lat, limit=limit)
    places = await _geocoder(request).search(query, session=session)
    return feature_collection(places, query=q, limit=query.limit)


@router.get("/geocode/reverse")
async def reverse(
    request: Request,
    session: PublicSessionDep,
    lon: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
) -> dict[str, Any]:
    """The address at a point (within 50 m), else its street, else its commune."""
    places = await _geocoder(request).reverse(lon, lat, session=session)
    return feature_collection(places, limit=1)
