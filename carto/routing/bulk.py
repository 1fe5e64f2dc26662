"""Bulk routing: a whole GeoDataFrame of points at once, for imports and benchmarks.

The communes and arrondissements around the points are loaded once into shapely
STRtrees, the rules, memberships and services into dictionaries; each point then
goes through the same precedence and the same `decide` as the single path
(`resolution.resolve`), so both give the same decisions. Boundaries follow
ST_Covers (`covered_by` here): the boundary belongs to the polygon, and on a
shared edge the lowest INSEE code wins.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import shapely
from psycopg.rows import dict_row

from carto.errors import CartoError
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
from carto.routing.resolution import STREET_RADIUS_M, check_point, outside, to_psycopg
from carto.routing.streets import NEAREST_SQL

SCOPE_RANK = {"commune": 0, "intercommunalite": 1, "departement": 2, "everywhere": 3}


@dataclass(frozen=True)
class Member:
    siren: str
    nom: str
    authority_id: int


@dataclass
class RoutingContext:
    """Everything the routing of points in one area needs, loaded in a few queries."""

    at: datetime
    commune_tree: shapely.STRtree
    commune_codes: np.ndarray
    communes: dict[str, dict[str, Any]]
    arr_tree: shapely.STRtree
    arr_codes: np.ndarray
    arrondissements: dict[str, dict[str, Any]]
    members: dict[str, list[Member]]
    rules: dict[str, list[dict[str, Any]]]
    services: dict[tuple[int, str], tuple[int, str, str | None]]
    authorities: dict[int, str]
    categories: dict[str, CategoryInfo]
    has_streets: bool = False
    streets: dict[int, tuple[str | None, str]] = field(default_factory=dict)


def _tree(rows: list[dict[str, Any]]) -> tuple[shapely.STRtree, np.ndarray]:
    geoms = shapely.from_wkb([bytes(r["wkb"]) for r in rows]) if rows else np.array([])
    return shapely.STRtree(geoms), np.array([r["insee"] for r in rows], dtype=object)


def _load_rules(cur: psycopg.Cursor[Any], at: datetime) -> dict[str, list[dict[str, Any]]]:
    rows = cur.execute(
        """SELECT id, category_code, level, authority_id, scope_kind, scope_code, road_class,
                  coalesce(service_slug, category_code) AS service_slug, inform, valid_from
           FROM competence_rule
           WHERE (valid_from IS NULL OR valid_from <= %(at)s)
             AND (valid_to IS NULL OR valid_to > %(at)s)""",
        {"at": at},
    ).fetchall()
    by_category: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_category[row["category_code"]].append(row)
    return by_category


def load_context(
    conn: psycopg.Connection, *, bounds: tuple[float, float, float, float], at: datetime
) -> RoutingContext:
    """Territories within `bounds` (west, south, east, north) and the rules in force `at`."""
    envelope = {"w": bounds[0], "s": bounds[1], "e": bounds[2], "n": bounds[3]}
    box = "ST_MakeEnvelope(%(w)s, %(s)s, %(e)s, %(n)s, 4326)"
    with conn.cursor(row_factory=dict_row) as cur:
        communes = cur.execute(
            f"""SELECT insee, nom, departement, epci_siren, authority_id, ST_AsBinary(geom) AS wkb
                FROM commune WHERE geom && {box}""",
            envelope,
        ).fetchall()
        arrs = cur.execute(
            f"""SELECT insee, nom, commune_insee, ST_AsBinary(geom) AS wkb
                FROM arrondissement WHERE geom && {box}""",
            envelope,
        ).fetchall()
        members: dict[str, list[Member]] = defaultdict(list)
        epci = {r["insee"]: r["epci_siren"] for r in communes}
        for row in cur.execute(
            """SELECT m.insee, i.siren, i.nom, i.authority_id FROM intercommunalite_member m
               JOIN intercommunalite i ON i.siren = m.siren ORDER BY m.insee, i.siren"""
        ):
            if row["insee"] in epci:
                members[row["insee"]].append(Member(row["siren"], row["nom"], row["authority_id"]))
        for insee, items in members.items():  # the commune's own EPCI first, then by SIREN
            items.sort(key=lambda m, e=epci[insee]: (m.siren != e, m.siren))  # type: ignore[misc]
        services = {
            (r["authority_id"], r["slug"]): (r["id"], r["name"], r["email"])
            for r in cur.execute("SELECT id, authority_id, slug, name, email FROM service")
        }
        authorities = {r["id"]: r["name"] for r in cur.execute("SELECT id, name FROM authority")}
        categories = {
            r["code"]: CategoryInfo(r["code"], r["label"], r["domain"], r["due_days"])
            for r in cur.execute("SELECT code, label, domain, due_days FROM category WHERE active")
        }
        streets = cur.execute("SELECT EXISTS (SELECT 1 FROM street_segment) AS e").fetchone()
        has_streets = bool(streets and streets["e"])
        rules = _load_rules(cur, at)
    commune_tree, commune_codes = _tree(communes)
    arr_tree, arr_codes = _tree(arrs)
    return RoutingContext(
        at=at,
        commune_tree=commune_tree,
        commune_codes=commune_codes,
        communes={r["insee"]: r for r in communes},
        arr_tree=arr_tree,
        arr_codes=arr_codes,
        arrondissements={r["insee"]: r for r in arrs},
        members=dict(members),
        rules=rules,
        services=services,
        authorities=authorities,
        categories=categories,
        has_streets=has_streets,
    )


def _lowest_covering(
    tree: shapely.STRtree, codes: np.ndarray, points: np.ndarray
) -> dict[int, list[str]]:
    """For each point index, the codes of the polygons covering it, lowest first."""
    if len(codes) == 0:
        return {}
    pairs = tree.query(points, predicate="covered_by")
    found: dict[int, list[str]] = defaultdict(list)
    for point_idx, tree_idx in zip(pairs[0], pairs[1], strict=True):
        found[int(point_idx)].append(str(codes[tree_idx]))
    return {k: sorted(v) for k, v in found.items()}


def _rule_applies(rule: dict[str, Any], commune: dict[str, Any], sirens: set[str]) -> bool:
    kind, code = rule["scope_kind"], rule["scope_code"]
    if kind == "everywhere":
        return True
    if kind == "commune":
        return bool(code == commune["insee"])
    if kind == "departement":
        return bool(code == commune["departement"])
    return kind == "intercommunalite" and code in sirens


def _precedence(rule: dict[str, Any]) -> tuple[Any, ...]:
    start = rule["valid_from"]
    return (
        rule["road_class"] is None,
        SCOPE_RANK[rule["scope_kind"]],
        (0, -start.timestamp()) if start is not None else (1, 0.0),
        rule["id"],
    )


def _informed(
    ctx: RoutingContext, rule: dict[str, Any], commune: dict[str, Any], ic: Member | None,
    service_id: int | None,
) -> tuple[InformedService, ...]:  # fmt: skip
    out = []
    for item in rule["inform"] or []:
        level = item.get("level")
        authority_id = {
            "commune": commune["authority_id"],
            "intercommunalite": ic.authority_id if ic else None,
            "authority": item.get("authority_id"),
        }.get(level)
        if authority_id is None or authority_id not in ctx.authorities:
            continue
        found = ctx.services.get((authority_id, item.get("service") or rule["category_code"]))
        if found is None or found[0] == service_id:
            continue
        out.append(InformedService(found[0], found[1], authority_id, ctx.authorities[authority_id]))
    return dedupe_informed(out)


def candidates_for(ctx: RoutingContext, commune: dict[str, Any], category: str) -> list[Candidate]:
    """The rules in force at a commune for a category, in the single path's order."""
    members = ctx.members.get(commune["insee"], [])
    sirens = {m.siren for m in members}
    rules = sorted(
        (r for r in ctx.rules.get(category, []) if _rule_applies(r, commune, sirens)),
        key=_precedence,
    )
    out = []
    for rule in rules:
        if rule["scope_kind"] == "intercommunalite":
            ic = next((m for m in members if m.siren == rule["scope_code"]), None)
        else:
            ic = members[0] if members else None
        authority_id = {
            "commune": commune["authority_id"],
            "intercommunalite": ic.authority_id if ic else None,
            "authority": rule["authority_id"],
        }[rule["level"]]
        name = ctx.authorities.get(authority_id) if authority_id is not None else None
        service = ctx.services.get((authority_id, rule["service_slug"])) if name else None
        out.append(
            Candidate(
                rule_id=rule["id"], level=rule["level"], road_class=rule["road_class"],
                valid_from=rule["valid_from"],
                interco_siren=ic.siren if ic else None, interco_nom=ic.nom if ic else None,
                authority_id=authority_id if name else None, authority_name=name,
                service_id=service[0] if service else None,
                service_name=service[1] if service else None,
                service_slug=rule["service_slug"],
                service_email=service[2] if service else None,
                informed=_informed(ctx, rule, commune, ic, service[0] if service else None),
            )
        )  # fmt: skip
    return out


def _street(
    conn: psycopg.Connection, lon: float, lat: float, road_class: str | None
) -> tuple[str | None, str] | None:
    if road_class:
        return ("", road_class)
    with conn.cursor(row_factory=dict_row) as cur:
        near = cur.execute(
            to_psycopg(NEAREST_SQL.text), {"lon": lon, "lat": lat, "max_m": STREET_RADIUS_M}
        ).fetchone()
    return (near["name"], near["road_class"]) if near else None


def route_many(
    conn: psycopg.Connection,
    lons: list[float],
    lats: list[float],
    categories: list[str],
    *,
    road_classes: list[str | None] | None = None,
    at: datetime | None = None,
) -> list[RoutingDecision | CartoError]:
    """Route many points: a decision, or the error the single path would raise, per point."""
    when = at or datetime.now(UTC)
    results: list[RoutingDecision | CartoError | None] = [None] * len(lons)
    valid = []
    for i, (lon, lat) in enumerate(zip(lons, lats, strict=True)):
        try:
            check_point(lon, lat)
            valid.append(i)
        except CartoError as exc:
            results[i] = exc
    if valid:
        xs, ys = [lons[i] for i in valid], [lats[i] for i in valid]
        bounds = (min(xs), min(ys), max(xs), max(ys))
        ctx = load_context(conn, bounds=bounds, at=when)
        points = shapely.points(np.array(xs), np.array(ys))
        in_commune = _lowest_covering(ctx.commune_tree, ctx.commune_codes, points)
        in_arr = _lowest_covering(ctx.arr_tree, ctx.arr_codes, points)
        for k, i in enumerate(valid):
            road = road_classes[i] if road_classes else None
            results[i] = _route_one(conn, ctx, k, i, lons, lats, categories, road, in_commune,
                                    in_arr)  # fmt: skip
    assert all(r is not None for r in results)
    return results  # type: ignore[return-value]


def _route_one(
    conn: psycopg.Connection, ctx: RoutingContext, k: int, i: int, lons: list[float],
    lats: list[float], categories: list[str], road: str | None,
    in_commune: dict[int, list[str]], in_arr: dict[int, list[str]],
) -> RoutingDecision | CartoError:  # fmt: skip
    lon, lat, category = lons[i], lats[i], categories[i]
    try:
        codes = in_commune.get(k)
        if not codes:
            raise outside(lon, lat)
        commune = ctx.communes[codes[0]]
        info = ctx.categories.get(category)
        if info is None:
            raise UnknownCategory(f"Catégorie inconnue : « {category} ».")
        arr = next(
            (a for a in in_arr.get(k, []) if ctx.arrondissements[a]["commune_insee"] == codes[0]),
            None,
        )
        place = Place(
            commune_insee=commune["insee"], commune_nom=commune["nom"], arrondissement_insee=arr,
            arrondissement_nom=ctx.arrondissements[arr]["nom"] if arr else None,
        )  # fmt: skip
        candidates = candidates_for(ctx, commune, category)
        street = None
        if road or (ctx.has_streets and candidates):
            street = _street(conn, lon, lat, road)
        return decide(lon=lon, lat=lat, at=ctx.at, place=place, category=info,
                      candidates=candidates, street=street)  # fmt: skip
    except CartoError as exc:
        return exc


def route_frame(
    conn: psycopg.Connection,
    points: gpd.GeoDataFrame,
    *,
    category_code: str | None = None,
    at: datetime | None = None,
) -> pd.DataFrame:
    """One row per point (same index): status, codes, authority, service, explanation.

    The category is `category_code`, or the frame's `category_code` column; a
    `road_class` column, when present, stands in for the street context."""
    frame = points.to_crs(4326) if points.crs and points.crs.to_epsg() != 4326 else points
    lons = [float(g.x) if g is not None and not g.is_empty else math.nan for g in frame.geometry]
    lats = [float(g.y) if g is not None and not g.is_empty else math.nan for g in frame.geometry]
    categories = (
        [category_code] * len(frame) if category_code else [str(c) for c in frame["category_code"]]
    )
    roads = list(frame["road_class"]) if "road_class" in frame.columns else None
    results = route_many(conn, lons, lats, categories, road_classes=roads, at=at)
    return pd.DataFrame([_row(r) for r in results], index=frame.index)


def _row(result: RoutingDecision | CartoError) -> dict[str, Any]:
    if isinstance(result, CartoError):
        return {"status": result.code, "message": result.message}
    return {
        "status": "routed",
        "message": None,
        "commune_insee": result.commune_insee,
        "arrondissement_insee": result.arrondissement_insee,
        "intercommunalite_siren": result.intercommunalite_siren,
        "rule_id": result.rule_id,
        "authority_id": result.authority_id,
        "authority": result.authority_name,
        "service_id": result.service_id,
        "service": result.service_name,
        "informed_service_ids": [i.service_id for i in result.informed],
        "explanation": result.explanation,
    }
