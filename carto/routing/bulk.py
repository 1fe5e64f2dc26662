"""Bulk routing: many points at once (a GeoDataFrame, lists), for imports and benchmarks.

The communes are located in bulk: by the grid `PointLocator` over all communes
(built once, cached until the communes change) for large batches, by an STRtree
over the communes around the points for small ones; arrondissements by a small
grid of their own. The decisions are made by the single path's code
(`candidates_for`, `decide`) once per place and kept in `bulk_table`'s tables
until the routing data changes, so both paths give the same decisions and a batch
only takes them by index. Boundaries follow ST_Covers: the boundary belongs to the
polygon, and on a shared edge the lowest INSEE code wins.
"""

from __future__ import annotations

import dataclasses
import gc
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import shapely

from carto.errors import CartoError
from carto.routing.bulk_frame import error_at, frame_columns
from carto.routing.bulk_table import (
    CACHES,
    INVALID,
    OUTSIDE,
    STREET,
    UNKNOWN,
    Batch,
    Block,
    DecisionTable,
    Places,
    decide_at,
)
from carto.routing.decision import RoutingDecision
from carto.routing.locator import PointLocator
from carto.routing.resolution import nearest_street_sync, ruleset_sync
from carto.routing.ruleset import RuleSet

LOCATOR_MIN_POINTS = 200_000  # below this, an STRtree beats building the grid
LOCATOR_CELL = 0.0025  # degrees: ~90% of points settled by the grid over France

_LOCATORS: OrderedDict[str, PointLocator] = OrderedDict()
_LOCATORS_LOCK = threading.Lock()


def territories_stamp(conn: psycopg.Connection) -> str:
    row = conn.execute("SELECT territories::text FROM routing_version").fetchone()
    return str(row[0]) if row else ""


def communes_locator(
    conn: psycopg.Connection, *, build: bool = True, stamp: str | None = None
) -> PointLocator | None:
    """The grid locator over all communes, cached per process until the communes change
    (`stamp`: the territories stamp, read when not given); None when not cached and
    `build` is false."""
    stamp = territories_stamp(conn) if stamp is None else stamp
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
        (
            float(np.nanmin(lons)),
            float(np.nanmin(lats)),
            float(np.nanmax(lons)),
            float(np.nanmax(lats)),
        ),
    ).fetchall()
    polygons = shapely.from_wkb([bytes(r[1]) for r in rows]) if rows else np.array([])
    return _lowest_covering(polygons, np.array([r[0] for r in rows], dtype=object), lons, lats)


def _street(
    conn: psycopg.Connection, lon: float, lat: float, road_class: str | None
) -> tuple[str | None, str] | None:
    if road_class:
        return ("", road_class)
    return nearest_street_sync(conn, lon, lat)


def _commune_index(
    conn: psycopg.Connection, places: Places, stamp: str, lons: np.ndarray, lats: np.ndarray
) -> np.ndarray:
    """Index into `places.codes` of the commune covering each point, -1: none."""
    locator = communes_locator(conn, build=len(lons) >= LOCATOR_MIN_POINTS, stamp=stamp)
    if locator is not None:
        found = locator.locate(lons, lats)
        if len(locator.codes) == len(places.codes) and (
            locator.codes is places.codes or np.array_equal(locator.codes, places.codes)
        ):
            places.codes = locator.codes  # the same list: compared once
            return found
        codes = locator.codes[np.maximum(found, 0)]
        codes[found < 0] = None
    else:
        codes = locate_communes(conn, lons, lats)
    known = pd.notna(codes)
    pos = np.minimum(
        np.searchsorted(places.codes, np.where(known, codes, "")), len(places.codes) - 1
    )
    return np.where(known & (places.codes[pos] == codes), pos, -1).astype(np.int64)


def route_outcomes(
    conn: psycopg.Connection, lons: np.ndarray, lats: np.ndarray,
    categories: str | list[str] | np.ndarray, road_classes: list[str | None] | None = None,
    at: datetime | None = None,
) -> Batch:  # fmt: skip
    """Every point's outcome: decisions taken from the cached tables by place index,
    made (by the single path's code) the first time a place is met."""
    when = at or datetime.now(UTC)
    lons, lats = np.asarray(lons, dtype=float), np.asarray(lats, dtype=float)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(lons) & np.isfinite(lats) & (np.abs(lons) <= 180) & (np.abs(lats) <= 90)
    which = np.full(len(lons), INVALID, dtype=np.int64)
    commune = np.full(len(lons), -1, dtype=np.int64)
    row = conn.execute(  # one round trip: the rest comes from the caches
        """SELECT version::text, territories::text, EXISTS (SELECT 1 FROM street_segment)
           FROM routing_version"""
    ).fetchone()
    version, stamp, has_streets = (
        (str(row[0]), str(row[1]), bool(row[2])) if row else ("", "", False)
    )
    places = CACHES.places(conn, version)
    if len(places.codes) == 0 or not ok.any():
        which[ok] = OUTSIDE
        return Batch(which, [], commune, places.codes)
    if not ok.all():  # not points: located nowhere, then marked INVALID
        lons, lats = np.where(ok, lons, np.nan), np.where(ok, lats, np.nan)
    # Full-length arrays throughout (no copies of a million coordinates); the points
    # located nowhere get garbage places and slots, overwritten at the end.
    with np.errstate(invalid="ignore"):  # NaN cells of the non-points: found nowhere
        commune = _commune_index(conn, places, stamp, lons, lats)
        located = commune >= 0
        place = places.refine(commune, lons, lats)
    ruleset = ruleset_sync(conn, version)
    groups: list[tuple[str, str | None, np.ndarray | None]]  # None: every located point
    if isinstance(categories, str) and not road_classes:
        groups = [(categories, None, None)]
    else:
        sel = np.flatnonzero(located)
        cats = np.asarray(categories, dtype=object)[sel] if not isinstance(categories, str) \
            else np.full(len(sel), categories, dtype=object)  # fmt: skip
        roads = np.asarray(road_classes, dtype=object)[sel] if road_classes \
            else np.full(len(sel), None, dtype=object)  # fmt: skip
        gid, uniq = pd.factorize(pd.MultiIndex.from_arrays([cats, roads]))
        groups = [(str(c), r if pd.notna(r) else None, sel[gid == g])
                  for g, (c, r) in enumerate(uniq)]  # fmt: skip
    blocks: list[tuple[Block, int]] = []
    offset = 0
    extra = Block()
    street_points: list[tuple[int, int, str, str | None]] = []
    for category, road, members in groups:
        table = CACHES.table(places, ruleset, has_streets, category, road, when)
        if members is None:
            here, mask, x, y = place, located, lons, lats
        else:
            here, mask, x, y = place[members], None, lons[members], lats[members]
        _fill(conn, table, places, ruleset, has_streets, category, road, when, here, x, y, mask)
        slots = table.slots[here]
        size = len(table.block.outcomes)
        blocks.append((table.block, size))
        part = slots + offset if offset else slots  # STREET ones are replaced below
        at_ = np.empty(0, dtype=np.int64)
        if table.street:
            at_ = np.flatnonzero(slots == STREET if mask is None else (slots == STREET) & mask)
        if members is None:
            which = part
        else:
            which[members] = part
            at_ = members[at_]
        offset += size
        street_points += [(i, int(place[i]), category, road) for i in at_.tolist()]
    for i, p, category, road in street_points:  # the street around each point decides
        outcome, _ = decide_at(conn, places, ruleset, has_streets, p, category, road, when,
                               float(lons[i]), float(lats[i]), _street)  # fmt: skip
        which[i] = offset + extra.add(outcome)
    blocks.append((extra, len(extra.outcomes)))
    which[~located] = OUTSIDE
    if not ok.all():
        which[~ok] = INVALID
        commune[~ok] = -1
    return Batch(which, blocks, commune, places.codes)


def _fill(
    conn: psycopg.Connection, table: DecisionTable, places: Places, ruleset: RuleSet,
    has_streets: bool, category: str, road: str | None, when: datetime, here: np.ndarray,
    lons: np.ndarray, lats: np.ndarray, mask: np.ndarray | None = None,
) -> None:  # fmt: skip
    """Decide at the places of `here` (where `mask`) not decided yet, at the first point
    of each."""
    missing = table.slots[here] == UNKNOWN
    if mask is not None:
        missing &= mask
    if not missing.any():
        return
    new, first = np.unique(here[missing], return_index=True)
    rows = np.flatnonzero(missing)[first]
    with table.lock:
        for p, k in zip(new.tolist(), rows.tolist(), strict=True):
            if table.slots[p] != UNKNOWN:
                continue
            outcome, shared = decide_at(conn, places, ruleset, has_streets, p, category, road,
                                        when, float(lons[k]), float(lats[k]), _street)  # fmt: skip
            table.slots[p] = table.block.add(outcome) if shared else STREET
            table.street |= not shared


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
    when = at or datetime.now(UTC)
    with _no_gc():
        batch = route_outcomes(conn, xs, ys, categories, road_classes, when)
    outcomes = batch.outcomes()
    out: list[RoutingDecision | CartoError] = []
    for i, j in enumerate(batch.which.tolist()):
        lon, lat = lons[i], lats[i]
        if j < 0:
            out.append(error_at(j, lon, lat))
        else:
            found = outcomes[j]
            if isinstance(found, RoutingDecision) and (found.lon, found.lat, found.at) != (
                lon, lat, when,
            ):  # fmt: skip
                found = dataclasses.replace(found, lon=lon, lat=lat, at=when)
            out.append(found)
    return out


def route_frame(
    conn: psycopg.Connection,
    points: gpd.GeoDataFrame,
    *,
    category_code: str | None = None,
    at: datetime | None = None,
) -> pd.DataFrame:
    """One row per point (same index): status, message, codes, rule, authority, service,
    explanation, rule kind and legal basis; `commune_insee` is filled for every point
    inside a commune, refused ones included. Repeated texts are categoricals, ids
    nullable integers, informed services tuples. A point outside every commune reads
    the refusal without its coordinates (`bulk_frame.OUTSIDE_ROW`): the row is the point.

    The category is `category_code`, or the frame's `category_code` column; a
    `road_class` column, when present, stands in for the street context."""
    frame = points.to_crs(4326) if points.crs and points.crs.to_epsg() != 4326 else points
    geoms = frame.geometry.to_numpy()
    lons, lats = shapely.get_x(geoms), shapely.get_y(geoms)
    categories = category_code or frame["category_code"].astype(str).to_numpy(dtype=object)
    roads = list(frame["road_class"]) if "road_class" in frame.columns else None
    with _no_gc():
        batch = route_outcomes(conn, lons, lats, categories, roads, at)
        columns = frame_columns(batch)
    return pd.DataFrame(columns, index=frame.index, copy=False)
