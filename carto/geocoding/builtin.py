"""The built-in geocoder: PostGIS only (pg_trgm + unaccent), one SQL statement a call.

Searches the communes and arrondissements (always there), the BAN streets and
addresses (`carto import addresses`) and the named OSM streets (`carto import
streets`); the SQL lives in `sql/search.sql` and `sql/reverse.sql`.
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from carto.geocoding.provider import Place, SearchQuery

SEARCH_SQL = text(resources.files("carto.geocoding").joinpath("sql/search.sql").read_text())
REVERSE_SQL = text(resources.files("carto.geocoding").joinpath("sql/reverse.sql").read_text())
# Text, not a statement: the intake embeds it in its one INSERT (carto.signalements.address).
REVERSE_IN_AREA_SQL = (
    resources.files("carto.geocoding").joinpath("sql/reverse_in_area.sql").read_text()
)
ADDRESS_MAX_M = 50.0  # an address farther than this is not "the" address of the point
STREET_MAX_M = 100.0
MEANINGFUL = re.compile(r"[\W_]+")


def _housenumber(numero: int | None, rep: str | None) -> str | None:
    if numero is None:
        return None
    return f"{numero} {rep}" if rep else str(numero)


def _place(row: Any) -> Place:
    number = _housenumber(row.numero, row.rep)
    name = f"{number} {row.street_name}" if row.type == "housenumber" else row.street_name
    return Place(
        type=row.type, name=name, citycode=row.citycode, city=row.city, lon=float(row.lon),
        lat=float(row.lat), score=float(row.score), postcode=row.postcode, housenumber=number,
        street=row.street_name if row.type != "municipality" else None, id=row.id,
    )  # fmt: skip


class BuiltinGeocoder:
    """Geocoding from the tables of this database."""

    name = "builtin"

    async def search(self, query: SearchQuery, *, session: AsyncSession) -> list[Place]:
        """Best matches first; duplicates (a street in both BAN and OSM) keep the best one.

        Fewer than 3 letters or digits (and no postcode) find nothing, as in the national
        API: "a" would be the prefix of half the streets of France."""
        if len(MEANINGFUL.sub("", query.text)) < 3 and not query.postcode:
            return []
        params = {
            "t": query.text, "pc": query.postcode, "hn": query.housenumber, "rep": query.rep,
            "lon": query.lon, "lat": query.lat, "lim": query.limit,
        }  # fmt: skip
        rows = (await session.execute(SEARCH_SQL, params)).all()
        places: list[Place] = []
        seen: set[tuple[str, str | None, str]] = set()
        for row in rows:
            place = _place(row)
            key = (place.type, place.citycode, place.name.casefold())
            if key in seen:
                continue
            seen.add(key)
            places.append(place)
            if len(places) == query.limit:
                break
        return places

    async def reverse(self, lon: float, lat: float, *, session: AsyncSession) -> list[Place]:
        """The address within 50 m, else the named street within 100 m, else the commune."""
        row = (
            await session.execute(
                REVERSE_SQL,
                {"lon": lon, "lat": lat, "addr_m": ADDRESS_MAX_M, "street_m": STREET_MAX_M},
            )
        ).first()
        if row is None:
            return []
        number = _housenumber(row.numero, row.rep)
        name = f"{number} {row.street}" if row.type == "housenumber" else row.street
        return [
            Place(
                type=row.type, name=name, citycode=row.citycode, city=row.city,
                lon=float(row.lon), lat=float(row.lat), score=1.0, postcode=row.postcode,
                housenumber=number, street=row.street if row.type != "municipality" else None,
                id=row.id, distance=float(row.d),
            )
        ]  # fmt: skip
