"""Resolution of one report: one indexed PostGIS query, then the shared decision code.

`resolve` is the app's path (async session); `resolve_sync` runs the very same
statement on a psycopg connection (CLI, imports, and checks inside an open
transaction). When a street extract is loaded, the nearest street is looked up
as well, for the ticket's context and for road-class rules.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

import psycopg
from psycopg.rows import dict_row
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from carto.errors import InvalidInput, OutsideTerritory
from carto.routing.decision import (
    Candidate,
    CategoryInfo,
    InformedService,
    Place,
    RoutingDecision,
    UnknownCategory,
    decide,
    dedupe_informed,
)
from carto.routing.streets import NEAREST_SQL, nearest_street

STREET_RADIUS_M = 50.0


@cache
def resolve_sql() -> str:
    return (resources.files("carto.routing") / "sql" / "resolve.sql").read_text(encoding="utf-8")


@cache
def _resolve_sql_psycopg() -> str:
    return to_psycopg(resolve_sql())


@cache
def _nearest_sql_psycopg() -> str:
    return to_psycopg(NEAREST_SQL.text)


def to_psycopg(sql: str) -> str:
    """`:name` bind parameters (SQLAlchemy) as `%(name)s` (psycopg); `::casts` untouched."""
    return re.sub(r"(?<![:\w]):([A-Za-z_]\w*)", r"%(\1)s", sql)


def check_point(lon: float, lat: float) -> None:
    if not (math.isfinite(lon) and math.isfinite(lat)) or not (
        -180 <= lon <= 180 and -90 <= lat <= 90
    ):
        raise InvalidInput(
            "Coordonnées invalides : la longitude va de -180 à 180 et la latitude de -90 à 90."
        )


def outside(lon: float, lat: float) -> OutsideTerritory:
    return OutsideTerritory(
        f"Ce point ({lat:.5f}, {lon:.5f}) est en dehors des territoires couverts : "
        "aucune collectivité ne peut y recevoir de signalement."
    )


def _candidate(row: dict[str, Any]) -> Candidate:
    informed = [
        InformedService(
            service_id=int(i["service_id"]),
            service_name=i["service_name"],
            authority_id=int(i["authority_id"]),
            authority_name=i["authority_name"],
        )
        for i in (row["informed"] or [])
    ]
    return Candidate(
        rule_id=row["rule_id"],
        level=row["level"],
        road_class=row["road_class"],
        valid_from=row["valid_from"],
        interco_siren=row["interco_siren"],
        interco_nom=row["interco_nom"],
        authority_id=row["authority_id"],
        authority_name=row["authority_name"],
        service_id=row["service_id"],
        service_name=row["service_name"],
        service_slug=row["service_slug"] or row["category_code"],
        informed=dedupe_informed(informed),
        service_email=row["service_email"],
    )


def facts(
    rows: list[dict[str, Any]], *, lon: float, lat: float, category_code: str
) -> tuple[Place, CategoryInfo, list[Candidate], bool]:
    """The query's rows as (place, category, candidates, streets loaded?)."""
    if not rows:
        raise outside(lon, lat)
    first = rows[0]
    if first["category_code"] is None:
        raise UnknownCategory(f"Catégorie inconnue : « {category_code} ».")
    place = Place(
        commune_insee=first["commune_insee"],
        commune_nom=first["commune_nom"],
        arrondissement_insee=first["arrondissement_insee"],
        arrondissement_nom=first["arrondissement_nom"],
    )
    category = CategoryInfo(
        code=first["category_code"],
        label=first["category_label"],
        domain=first["category_domain"],
        due_days=first["category_due_days"],
    )
    candidates = [_candidate(r) for r in rows if r["rule_id"] is not None]
    return place, category, candidates, bool(first["has_streets"])


def _needs_street(candidates: list[Candidate], has_streets: bool, road_class: str | None) -> bool:
    return has_streets and road_class is None and bool(candidates)


async def resolve(
    *,
    session: AsyncSession,
    lon: float,
    lat: float,
    category_code: str,
    at: datetime | None = None,
    road_class: str | None = None,
) -> RoutingDecision:
    """Who handles a `category_code` report at (lon, lat), under the rules in force `at`.

    `road_class` stands in for the street context (imports that know it); otherwise
    the nearest street is looked up when an extract is loaded. Raises
    OutsideTerritory, UnknownCategory or NoCompetence (all 422, French messages)."""
    check_point(lon, lat)
    when = at or datetime.now(UTC)
    params = {"lon": lon, "lat": lat, "category": category_code, "at": when}
    result = await session.execute(text(resolve_sql()), params)
    rows = [dict(r) for r in result.mappings()]
    place, category, candidates, has_streets = facts(
        rows, lon=lon, lat=lat, category_code=category_code
    )
    street: tuple[str | None, str] | None = ("", road_class) if road_class else None
    if _needs_street(candidates, has_streets, road_class):
        found = await nearest_street(
            session=session, lon=lon, lat=lat, max_distance_m=STREET_RADIUS_M
        )
        street = (found.name, found.road_class) if found else None
    return decide(
        lon=lon, lat=lat, at=when, place=place, category=category, candidates=candidates,
        street=street,
    )  # fmt: skip


def resolve_sync(
    *,
    conn: psycopg.Connection,
    lon: float,
    lat: float,
    category_code: str,
    at: datetime | None = None,
    road_class: str | None = None,
) -> RoutingDecision:
    """`resolve` on a psycopg connection: the same statement, the same decision."""
    check_point(lon, lat)
    when = at or datetime.now(UTC)
    params = {"lon": lon, "lat": lat, "category": category_code, "at": when}
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_resolve_sql_psycopg(), params, prepare=True).fetchall()
        place, category, candidates, has_streets = facts(
            rows, lon=lon, lat=lat, category_code=category_code
        )
        street: tuple[str | None, str] | None = ("", road_class) if road_class else None
        if _needs_street(candidates, has_streets, road_class):
            near = cur.execute(
                _nearest_sql_psycopg(), {"lon": lon, "lat": lat, "max_m": STREET_RADIUS_M}
            ).fetchone()
            street = (near["name"], near["road_class"]) if near else None
    return decide(
        lon=lon, lat=lat, at=when, place=place, category=category, candidates=candidates,
        street=street,
    )  # fmt: skip
