"""One geocoder interface, its answer (`Place`, shaped like the Base Adresse Nationale API's
features) and the parsing every provider shares.

Providers: `BuiltinGeocoder` (PostGIS, the default) and `ExternalGeocoder` (any
BAN-compatible HTTP service: the State's address API, a self-hosted addok), chosen by
`CARTO_GEOCODER_URL`. Both take the request's database session so that the built-in
one answers in one SQL statement (intake can call `reverse` on its own session).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from carto.errors import CartoError

PlaceType = Literal["housenumber", "street", "municipality"]
MAX_QUERY_CHARS = 200  # the national API refuses longer queries too
MAX_LIMIT = 20

# "12 bis rue ...", "12b, rue ...", "3 ter ..." at the start; a postcode anywhere.
HOUSENUMBER = re.compile(
    r"^\s*(\d{1,5})\s*(bis|ter|quater|quinquies|[a-h])?(?=[\s,]|$)[\s,]*", re.I
)
POSTCODE = re.compile(r"(?<!\d)(\d{5})(?!\d)")


class GeocoderUnavailable(CartoError):
    """The external geocoder could not be reached in time (or answered nonsense)."""

    status_code = 503
    code = "geocoder_unavailable"


class BadGeocodeQuery(CartoError):
    """A query no geocoder can take (empty, too long, control characters): 400 as the BAN's."""

    status_code = 400
    code = "bad_query"


@dataclass(frozen=True)
class SearchQuery:
    """A free-text query split into what the search matches on."""

    raw: str
    text: str  # without the house number and the postcode
    housenumber: int | None = None
    rep: str | None = None
    postcode: str | None = None
    lon: float | None = None
    lat: float | None = None
    limit: int = 5


@dataclass(frozen=True)
class Place:
    """One answer, with the properties of a BAN feature."""

    type: PlaceType
    name: str
    citycode: str | None
    city: str | None
    lon: float
    lat: float
    score: float
    postcode: str | None = None
    housenumber: str | None = None
    street: str | None = None
    id: str | None = None
    distance: float | None = None  # metres (reverse)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        if self.type == "municipality":
            return self.name
        where = " ".join(p for p in (self.postcode, self.city) if p)
        return f"{self.name} {where}".strip()

    def feature(self) -> dict[str, Any]:
        props: dict[str, Any] = {
            "label": self.label, "score": round(self.score, 4), "type": self.type,
            "name": self.name, "postcode": self.postcode, "citycode": self.citycode,
            "city": self.city, "id": self.id,
        }  # fmt: skip
        if self.housenumber is not None:
            props["housenumber"] = self.housenumber
        if self.street is not None:
            props["street"] = self.street
        if self.distance is not None:
            props["distance"] = round(self.distance)
        if self.citycode:
            props["context"] = self.citycode[:3] if self.citycode[:2] == "97" else self.citycode[:2]
        props.update(self.extra)
        return {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(self.lon, 6), round(self.lat, 6)]},
            "properties": props,
        }


def feature_collection(places: list[Place], **meta: Any) -> dict[str, Any]:
    """The BAN API's answer: a GeoJSON FeatureCollection plus the query echoed."""
    return {
        "type": "FeatureCollection",
        "version": "draft",
        "features": [p.feature() for p in places],
        "attribution": "BAN",
        "licence": "ETALAB-2.0",
        **{k: v for k, v in meta.items() if v is not None},
    }


def parse_query(
    q: str | None, *, lon: float | None = None, lat: float | None = None, limit: int = 5
) -> SearchQuery:
    """Validate and split a query; raises `BadGeocodeQuery` (400) with a French message."""
    if (lon is None) != (lat is None):
        raise BadGeocodeQuery("Donnez lon et lat ensemble (ou aucun des deux).")
    if q is None or not q.strip():
        raise BadGeocodeQuery("Le paramètre q (adresse, rue, commune ou code postal) est requis.")
    if len(q) > MAX_QUERY_CHARS:
        raise BadGeocodeQuery(f"La recherche est limitée à {MAX_QUERY_CHARS} caractères.")
    if any(unicodedata.category(ch) in ("Cc", "Cs", "Co") and ch not in "\t" for ch in q):
        raise BadGeocodeQuery("La recherche contient des caractères de contrôle.")
    text = q.strip()
    housenumber = rep = None
    # A number followed by more words is a house number; alone it may be a postcode.
    match = HOUSENUMBER.match(text)
    if match and match.end() < len(text) and len(match.group(1)) < 5:
        housenumber, rep = int(match.group(1)), (match.group(2) or "").lower() or None
        text = text[match.end() :]
    postcode = None
    if pc := POSTCODE.search(text):
        postcode = pc.group(1)
        text = " ".join((text[: pc.start()] + " " + text[pc.end() :]).split())
    return SearchQuery(
        raw=q, text=text, housenumber=housenumber, rep=rep, postcode=postcode,
        lon=lon, lat=lat, limit=max(1, min(limit, MAX_LIMIT)),
    )  # fmt: skip


class Geocoder(Protocol):
    """What the API (and later the intake) needs of a geocoder."""

    name: str

    async def search(self, query: SearchQuery, *, session: AsyncSession) -> list[Place]:
        """Best matches first, at most `query.limit`."""
        ...

    async def reverse(self, lon: float, lat: float, *, session: AsyncSession) -> list[Place]:
        """The address (else street, else commune) at a point; empty outside every commune."""
        ...
