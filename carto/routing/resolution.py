"""Resolution of one report: one indexed PostGIS query, then the shared decision code.

The query only locates the point (GiST index on communes) and reads the routing
data's version stamp; the rules are chosen in the process from the cached rule
set (`ruleset.py`, the bulk path's code), reloaded when the stamp changes. This
keeps one round trip of a small plan per report. `resolve` is the app's path
(async session); `resolve_sync` runs the very same statement on a psycopg
connection (CLI, imports, and checks inside an open transaction). When a
street extract is loaded, the nearest street is looked up as well, for the
ticket's context and for road-class rules.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

import psycopg
from psycopg.rows import dict_row
from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncSession

from carto.errors import InvalidInput, OutsideTerritory
from carto.metrics import count_routing
from carto.routing.decision import (
    Candidate,
    CategoryInfo,
    Place,
    RoutingDecision,
    UnknownCategory,
    decide,
)
from carto.routing.ruleset import CACHE, LOAD_SQL, RuleSet, candidates_cached, ruleset_from_row
from carto.routing.streets import NEAREST_SQL, nearest_street

STREET_RADIUS_M = 50.0


@cache
def resolve_sql() -> str:
    return (resources.files("carto.routing") / "sql" / "resolve.sql").read_text(encoding="utf-8")


@cache
def _resolve_statement() -> TextClause:
    """Built once: a new text() per call is keyed and looked up in the compiled cache."""
    return text(resolve_sql())


@cache
def _resolve_sql_psycopg() -> str:
    return to_psycopg(resolve_sql())


@cache
def _nearest_sql_psycopg() -> str:
    return to_psycopg(NEAREST_SQL.text)


def nearest_street_sync(
    conn: psycopg.Connection, lon: float, lat: float
) -> tuple[str | None, str] | None:
    """(name, road class) of the street nearest to the point within STREET_RADIUS_M, on a
    psycopg connection (the single path's and the bulk path's street context)."""
    with conn.cursor(row_factory=dict_row) as cur:
        near = cur.execute(
            _nearest_sql_psycopg(), {"lon": lon, "lat": lat, "max_m": STREET_RADIUS_M}
        ).fetchone()
    return (near["name"], near["road_class"]) if near else None


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


OUTSIDE_MESSAGE = (
    "Ce point ({lat:.5f}, {lon:.5f}) est en dehors des territoires couverts : "
    "Carto ne peut pas y transmettre de signalement."
)


def outside(lon: float, lat: float) -> OutsideTerritory:
    return OutsideTerritory(OUTSIDE_MESSAGE.format(lon=lon, lat=lat) + " " + ELSEWHERE)


ELSEWHERE = (
    "Adressez-vous à la mairie de la commune concernée ; en mer, au CROSS (196) ; "
    "en cas de danger, appelez le 112."
)
NEAREST_COMMUNE_KM = 30.0
NEAREST_COMMUNE_SQL = text(
    "SELECT c.nom, ST_Distance(c.geom::geography, p.g::geography) / 1000 AS km "
    "FROM commune c, (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g) p "
    "ORDER BY c.geom <-> p.g LIMIT 1"
)


async def outside_async(session: AsyncSession, lon: float, lat: float) -> OutsideTerritory:
    """The refusal of a point outside every commune, naming where to report instead:
    the nearest commune's mairie when one is close (a beach, a harbour), the sea
    rescue service or the emergency number otherwise."""
    row = (await session.execute(NEAREST_COMMUNE_SQL, {"lon": lon, "lat": lat})).first()
    near = None
    if row is not None and row.km is not None and row.km <= NEAREST_COMMUNE_KM:
        near = {"commune": row.nom, "distance_km": round(float(row.km), 1)}
        advice = (
            f"La commune la plus proche est {row.nom} (à {_km(near['distance_km'])}) : "
            "adressez-vous à sa mairie. En mer, contactez le CROSS (196) ; "
            "en cas de danger, appelez le 112."
        )
    else:
        advice = ELSEWHERE
    return OutsideTerritory(
        OUTSIDE_MESSAGE.format(lon=lon, lat=lat) + " " + advice,
        report_instead={"nearest": near, "advice": advice},
    )


def _km(km: float) -> str:
    """'2,4 km' (French decimal comma)."""
    return f"{km:.1f} km".replace(".", ",")


def facts(
    row: Sequence[Any] | None, rs: RuleSet | None, *, lon: float, lat: float,
    category_code: str, at: datetime, road_class: str | None = None,
) -> tuple[Place, CategoryInfo, list[Candidate], bool]:  # fmt: skip
    """The located row (resolve.sql's columns, in order) and the rule set as (place,
    category, candidates, streets loaded?)."""
    if row is None or rs is None:
        raise outside(lon, lat)
    category = rs.categories.get(category_code)
    if category is None:
        raise UnknownCategory(f"Catégorie inconnue : « {category_code} ».")
    _, streets, insee, nom, departement, authority_id, arr_insee, arr_nom = row
    has_streets = bool(streets)
    commune = {"insee": insee, "departement": departement, "authority_id": authority_id}
    roads = has_streets or road_class is not None
    candidates = candidates_cached(rs, commune, category_code, at, roads=roads)
    place = Place(insee, nom, arr_insee, arr_nom, rs.postcodes.get(arr_insee or insee))
    return place, category, candidates, has_streets


async def ruleset_async(session: AsyncSession, version: str | None) -> RuleSet:
    """The cached rule set at `version`, loaded (one statement) when not cached."""
    found = CACHE.get(version)
    if found is None:
        row = (await session.execute(text(LOAD_SQL))).mappings().one()
        found = ruleset_from_row(row)
        CACHE.put(found)
    return found


def ruleset_sync(conn: psycopg.Connection, version: str | None = None) -> RuleSet:
    """`ruleset_async` on a psycopg connection; no `version`: read the current one."""
    found = CACHE.get(version)
    if found is not None:  # the usual case: no cursor at all
        return found
    with conn.cursor(row_factory=dict_row) as cur:
        if version is None:
            stamp = cur.execute("SELECT version::text AS v FROM routing_version").fetchone()
            version = stamp["v"] if stamp else None
        found = CACHE.get(version)
        if found is None:
            found = ruleset_from_row(cur.execute(LOAD_SQL).fetchone())
            CACHE.put(found)
    return found


def _needs_street(candidates: list[Candidate], has_streets: bool, road_class: str | None) -> bool:
    return has_streets and road_class is None and bool(candidates)


@count_routing
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
    # Core execution on the session's connection: the ORM layer adds nothing to a text().
    conn = await session.connection()
    result = await conn.execute(_resolve_statement(), {"lon": lon, "lat": lat})
    row = result.first()
    if row is None:
        raise await outside_async(session, lon, lat)
    rs = await ruleset_async(session, row[0])  # the version stamp
    place, category, candidates, has_streets = facts(
        row, rs, lon=lon, lat=lat, category_code=category_code, at=when, road_class=road_class
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
    with conn.cursor() as cur:  # plain tuples: a dict row costs its column names each time
        row = cur.execute(_resolve_sql_psycopg(), {"lon": lon, "lat": lat}, prepare=True).fetchone()
        rs = ruleset_sync(conn, row[0]) if row is not None else None
        place, category, candidates, has_streets = facts(
            row, rs, lon=lon, lat=lat, category_code=category_code, at=when,
            road_class=road_class,
        )  # fmt: skip
        street: tuple[str | None, str] | None = ("", road_class) if road_class else None
        if _needs_street(candidates, has_streets, road_class):
            street = nearest_street_sync(conn, lon, lat)
    return decide(
        lon=lon, lat=lat, at=when, place=place, category=category, candidates=candidates,
        street=street,
    )  # fmt: skip
