"""Bulk routing: many points at once (a GeoDataFrame, lists), for imports and benchmarks.

The communes are located in bulk: by the grid `PointLocator` over all communes
(built once, cached until the communes change) for large batches, by an STRtree
over the communes around the points for small ones. The rules come from the same
cached rule set, and go through the same precedence and the same `decide`, as the
single path (`resolution.resolve`), so both give the same decisions. A decision
depends only on (commune, arrondissement, category, road class) unless the street
must be looked up, so it is made once per such key and shared. Boundaries follow
ST_Covers: the boundary belongs to the polygon, and on a shared edge the lowest
INSEE code wins.
"""

from __future__ import annotations

import dataclasses
import gc
import math
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import shapely
from psycopg.rows import dict_row

from carto.errors import CartoError, OutsideTerritory
from carto.routing.decision import Place, RoutingDecision, UnknownCategory, decide
from carto.routing.locator import PointLocator
from carto.routing.resolution import (
    OUTSIDE_MESSAGE,
    STREET_RADIUS_M,
    check_point,
    outside,
    ruleset_sync,
    to_psycopg,
)
from carto.routing.ruleset import RuleSet, candidates_for
from carto.routing.streets import NEAREST_SQL

LOCATOR_MIN_POINTS = 200_000  # below this, an STRtree beats building the grid
LOCATOR_CELL = 0.0025  # degrees: ~90% of points settled by the grid over France
INVALID, OUTSIDE = -2, -1
Outcome = RoutingDecision | CartoError

_LOCATORS: OrderedDict[str, PointLocator] = OrderedDict()
_LOCATORS_LOCK = threading.Lock()


def territories_stamp(conn: psycopg.Connection) -> str:
    row = conn.execute("SELECT territories::text FROM routing_version").fetchone()
    return str(row[0]) if row else ""


def communes_locator(conn: psycopg.Connection, *, build: bool = True) -> PointLocator | None:
    """The grid locator over all communes, cached per process until the communes change;
    None when not cached and `build` is false."""
    stamp = territories_stamp(conn)
    with _LOCATORS_LOCK:
        found = _LOCATORS.get(stamp)
    if found is not None or not build:
        return found
    rows = conn.execute("SELECT insee, ST_AsBinary(geom) FROM commune").fetchall()
    codes = np.array([r[0] for r in rows], dtype=object)
    locator = PointLocator.build(codes, shapely.from_wkb([bytes(r[1]) for r in rows]), LOCATOR_CELL)
    with _LOCATORS_LOCK:
        _LOCATORS[stamp] = locator
        while len(_LOCATORS) > 2:
            _LOCATORS.popitem(last=False)
    return locator


def _lowest_covering(
    polygons: np.ndarray, codes: np.ndarray, lons: np.ndarray, lats: np.ndarray
) -> np.ndarray:
    """Per point, the lowest code among the polygons covering it (None: none does)."""
    out = np.full(len(lons), None, dtype=object)
    if len(codes) == 0 or len(lons) == 0:
        return out
    order = np.argsort(codes, kind="stable")
    polygons, codes = polygons[order], codes[order]
    tree = shapely.STRtree(polygons)
    pi, gi = tree.query(shapely.points(lons, lats), predicate="covered_by")
    best = np.full(len(lons), len(codes), dtype=np.int64)
    np.minimum.at(best, pi, gi)
    hit = best < len(codes)
    out[hit] = codes[best[hit]]
    return out


def locate_communes(conn: psycopg.Connection, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
    """The INSEE code of the commune covering each point (lowest on a shared edge), or None."""
    locator = communes_locator(conn, build=len(lons) >= LOCATOR_MIN_POINTS)
    if locator is not None:
        found = locator.locate(lons, lats)
        out = np.full(len(lons), None, dtype=object)
        out[found >= 0] = locator.codes[found[found >= 0]]
        return out
    rows = conn.execute(
        """SELECT insee, ST_AsBinary(geom) FROM commune
           WHERE geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)""",
        (float(lons.min()), float(lats.min()), float(lons.max()), float(lats.max())),
    ).fetchall()
    polygons = shapely.from_wkb([bytes(r[1]) for r in rows]) if rows else np.array([])
    return _lowest_covering(polygons, np.array([r[0] for r in rows], dtype=object), lons, lats)


def _arrondissements(
    conn: psycopg.Connection, codes: np.ndarray, lons: np.ndarray, lats: np.ndarray
) -> tuple[np.ndarray, dict[str, str]]:
    """Per point, the arrondissement of its own commune covering it (or None); names."""
    out = np.full(len(lons), None, dtype=object)
    rows = conn.execute(
        "SELECT insee, nom, commune_insee, ST_AsBinary(geom) FROM arrondissement"
    ).fetchall()
    parents = {r[2] for r in rows}
    names = {r[0]: r[1] for r in rows}
    for parent in parents:
        mine = [r for r in rows if r[2] == parent]
        pts = np.flatnonzero(codes == parent)
        if pts.size:
            polygons = shapely.from_wkb([bytes(r[3]) for r in mine])
            codes_ = np.array([r[0] for r in mine], dtype=object)
            out[pts] = _lowest_covering(polygons, codes_, lons[pts], lats[pts])
    return out, names


@dataclass
class RoutingContext:
    """What routing a batch needs besides the points' communes: loaded once per batch."""

    at: datetime
    ruleset: RuleSet
    communes: dict[str, dict[str, Any]]
    arrondissement_names: dict[str, str]
    has_streets: bool
    postcodes: dict[str, str] = field(default_factory=dict)  # INSEE code -> its only postcode


def load_context(conn: psycopg.Connection, codes: np.ndarray, at: datetime) -> RoutingContext:
    """The rule set, the located communes' attributes and whether streets are loaded."""
    wanted = sorted({c for c in codes if c is not None})
    with conn.cursor(row_factory=dict_row) as cur:
        communes = {
            r["insee"]: r
            for r in cur.execute(
                """SELECT insee, nom, departement, authority_id FROM commune
                   WHERE insee = ANY(%s)""",
                (wanted,),
            )
        }
        streets = cur.execute("SELECT EXISTS (SELECT 1 FROM street_segment) AS e").fetchone()
        postcodes = {
            r["insee"]: r["postcode"]
            for r in cur.execute(
                """SELECT insee, min(postcode) AS postcode FROM geocode_postcode
                   WHERE insee = ANY(%s) OR insee IN (SELECT insee FROM arrondissement)
                   GROUP BY insee HAVING count(*) = 1""",
                (wanted,),
            )
        }
    return RoutingContext(
        at, ruleset_sync(conn), communes, {}, bool(streets and streets["e"]), postcodes
    )


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


def _route_point(
    conn: psycopg.Connection, ctx: RoutingContext, key: tuple[str, str | None, str, str | None],
    lon: float, lat: float,
) -> tuple[Outcome, bool]:  # fmt: skip
    """The outcome at one point of a key, and whether it may be shared by the whole key
    (not when the street around this very point decided)."""
    code, arr, category, road = key
    needs_street = False
    try:
        info = ctx.ruleset.categories.get(category)
        if info is None:
            raise UnknownCategory(f"Catégorie inconnue : « {category} ».")
        commune = ctx.communes[code]
        arr_nom = ctx.arrondissement_names.get(arr) if arr else None
        place = Place(commune_insee=code, commune_nom=commune["nom"], arrondissement_insee=arr,
                      arrondissement_nom=arr_nom,
                      postcode=ctx.postcodes.get(arr or code))  # fmt: skip
        candidates = candidates_for(ctx.ruleset, commune, category, ctx.at)
        needs_street = bool(ctx.has_streets and candidates and not road)
        street = _street(conn, lon, lat, road) if road or needs_street else None
        return decide(lon=lon, lat=lat, at=ctx.at, place=place, category=info,
                      candidates=candidates, street=street), not needs_street  # fmt: skip
    except CartoError as exc:  # NoCompetence may depend on the street too
        return exc, not needs_street


def route_outcomes(
    conn: psycopg.Connection, lons: np.ndarray, lats: np.ndarray, categories: list[str],
    road_classes: list[str | None] | None = None, at: datetime | None = None,
) -> tuple[np.ndarray, list[Outcome], np.ndarray]:  # fmt: skip
    """Per point an index into the distinct outcomes (or INVALID, OUTSIDE), those
    outcomes, and per point the commune located (None: none)."""
    when = at or datetime.now(UTC)
    lons, lats = np.asarray(lons, dtype=float), np.asarray(lats, dtype=float)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(lons) & np.isfinite(lats) & (np.abs(lons) <= 180) & (np.abs(lats) <= 90)
    which = np.full(len(lons), INVALID, dtype=np.int64)
    outcomes: list[Outcome] = []
    idx = np.flatnonzero(ok)
    communes = np.full(len(lons), None, dtype=object)
    if idx.size == 0:
        return which, outcomes, communes
    codes = locate_communes(conn, lons[idx], lats[idx])
    communes[idx] = codes
    arrs, arr_names = _arrondissements(conn, codes, lons[idx], lats[idx])
    ctx = load_context(conn, codes, when)
    ctx.arrondissement_names = arr_names
    located = pd.notna(codes)
    which[idx[~located]] = OUTSIDE
    sel, at_k = idx[located], np.flatnonzero(located)
    columns = [codes[at_k], arrs[at_k], np.asarray(categories, dtype=object)[sel],
               np.asarray(road_classes, dtype=object)[sel] if road_classes else None]  # fmt: skip
    group, first = _groups([c for c in columns if c is not None], len(sel))
    order = np.argsort(group, kind="stable")
    bounds = np.searchsorted(group[order], np.arange(len(first) + 1))
    of_group = np.empty(len(first), dtype=np.int64)
    for g, f in enumerate(first.tolist()):
        i, road = int(sel[f]), road_classes[int(sel[f])] if road_classes else None
        key = (codes[at_k[f]], arrs[at_k[f]], categories[i], road)
        outcome, shared = _route_point(conn, ctx, key, float(lons[i]), float(lats[i]))
        outcomes.append(outcome)
        of_group[g] = len(outcomes) - 1
        if not shared:  # the street around each point decides: one by one
            for k in order[bounds[g] + 1 : bounds[g + 1]].tolist():
                i = int(sel[k])
                outcomes.append(_route_point(conn, ctx, key, float(lons[i]), float(lats[i]))[0])
                which[i] = len(outcomes) - 1
    shared_rows = np.flatnonzero(which[sel] == INVALID)  # not settled one by one above
    which[sel[shared_rows]] = of_group[group[shared_rows]]
    return which, outcomes, communes


@contextmanager
def _no_gc() -> Iterator[None]:
    """Cyclic GC off while a batch allocates many small objects next to large arrays of
    Python objects: each collection would walk them all (seconds per million points)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _groups(columns: list[np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Group id per row of equal values across `columns` (None is a value), and the
    first row of each group."""
    combined = np.zeros(n, dtype=np.int64)
    for column in columns:
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
        combined = combined * (len(uniques) + 1) + (codes + 1)
    _, first, group = np.unique(combined, return_index=True, return_inverse=True)
    return group.ravel(), first


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
    xs, ys = np.asarray(lons, dtype=float), np.asarray(lats, dtype=float)
    with _no_gc():
        which, outcomes, _ = route_outcomes(conn, xs, ys, categories, road_classes, at)
    out: list[RoutingDecision | CartoError] = []
    for i, j in enumerate(which.tolist()):
        lon, lat = lons[i], lats[i]
        if j < 0:
            out.append(_error(j, lon, lat))
        else:
            found = outcomes[j]
            if isinstance(found, RoutingDecision) and (found.lon, found.lat) != (lon, lat):
                found = dataclasses.replace(found, lon=lon, lat=lat)
            out.append(found)
    return out


def route_frame(
    conn: psycopg.Connection,
    points: gpd.GeoDataFrame,
    *,
    category_code: str | None = None,
    at: datetime | None = None,
) -> pd.DataFrame:
    """One row per point (same index): status, codes, authority, service, explanation;
    `commune_insee` is filled for every point inside a commune, refused ones included.

    The category is `category_code`, or the frame's `category_code` column; a
    `road_class` column, when present, stands in for the street context."""
    frame = points.to_crs(4326) if points.crs and points.crs.to_epsg() != 4326 else points
    geoms = frame.geometry.to_numpy()
    lons, lats = shapely.get_x(geoms), shapely.get_y(geoms)
    categories = (
        [category_code] * len(frame) if category_code else [str(c) for c in frame["category_code"]]
    )
    roads = list(frame["road_class"]) if "road_class" in frame.columns else None
    with _no_gc():
        which, outcomes, communes = route_outcomes(conn, lons, lats, categories, roads, at)
    # One row per distinct outcome, then taken per point; outside messages name the point.
    rows = [_row(o) for o in outcomes]
    rows += [_row(_error(INVALID, math.nan, math.nan)), {"status": OutsideTerritory.code}]
    table = pd.DataFrame(rows)
    take = np.where(which >= 0, which, len(outcomes) + (which == OUTSIDE))
    columns = {name: table[name].to_numpy(dtype=object)[take] for name in table.columns}
    far = np.flatnonzero(which == OUTSIDE)
    where = zip(lons[far].tolist(), lats[far].tolist(), strict=True)
    columns["message"][far] = [OUTSIDE_MESSAGE.format(lon=x, lat=y) for x, y in where]
    columns["commune_insee"] = communes  # refused points too: where they fell
    return pd.DataFrame(columns, index=frame.index, dtype=object)  # no Arrow conversion


def _error(kind: int, lon: float, lat: float) -> CartoError:
    if kind == OUTSIDE:
        return outside(lon, lat)
    try:
        check_point(lon, lat)
    except CartoError as exc:
        return exc
    raise AssertionError("a valid point was marked invalid")


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
