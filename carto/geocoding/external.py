"""A BAN-compatible geocoder over HTTP: the State's address API, or a self-hosted addok.

`CARTO_GEOCODER_URL` is the service's base (`…/search/` and `…/reverse/` below it).
Its answers are re-read into `Place`s, so the API's output has one shape whichever
provider answered; a slow or unreachable service is a 503 with a French message,
never a hung request (`CARTO_GEOCODER_TIMEOUT_S`).
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from carto.geocoding.provider import GeocoderUnavailable, Place, PlaceType, SearchQuery

log = logging.getLogger("carto.geocoding")
TYPES: dict[str, PlaceType] = {
    "housenumber": "housenumber", "street": "street", "municipality": "municipality",
    "locality": "street",
}  # fmt: skip
UNAVAILABLE = (
    "Le service de recherche d'adresses ne répond pas pour le moment ; "
    "placez le point sur la carte ou réessayez plus tard."
)


def _place(feature: dict[str, Any]) -> Place | None:
    props = feature.get("properties") or {}
    coords = (feature.get("geometry") or {}).get("coordinates") or []
    kind = TYPES.get(str(props.get("type")))
    if kind is None or len(coords) != 2 or not props.get("name"):
        return None
    street = props.get("street") or (props["name"] if kind == "street" else None)
    return Place(
        type=kind, name=str(props["name"]), citycode=props.get("citycode"),
        city=props.get("city"), lon=float(coords[0]), lat=float(coords[1]),
        score=float(props.get("score") or 0), postcode=props.get("postcode"),
        housenumber=props.get("housenumber"), street=street, id=props.get("id"),
        distance=props.get("distance"),
    )  # fmt: skip


class ExternalGeocoder:
    """Any service that speaks the national address API (`/search/`, `/reverse/`)."""

    name = "external"

    def __init__(self, base_url: str, *, timeout_s: float = 2.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s

    async def _get(self, path: str, params: dict[str, Any]) -> list[Place]:
        query = {k: v for k, v in params.items() if v is not None}
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s) as client:
                resp = await client.get(f"{self.base_url}/{path}/", params=query)
                resp.raise_for_status()
                features = resp.json().get("features") or []
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            raise GeocoderUnavailable(UNAVAILABLE, detail=f"{self.base_url}: {exc!r}") from exc
        places = [_place(f) for f in features if isinstance(f, dict)]
        return [p for p in places if p is not None]

    async def search(self, query: SearchQuery, *, session: AsyncSession) -> list[Place]:
        """The raw query goes as it is: the service does its own parsing."""
        return await self._get(
            "search", {"q": query.raw, "limit": query.limit, "lon": query.lon, "lat": query.lat}
        )

    async def reverse(self, lon: float, lat: float, *, session: AsyncSession) -> list[Place]:
        return await self._get("reverse", {"lon": lon, "lat": lat, "limit": 1})
