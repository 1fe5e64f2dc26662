"""Bulk routing (STRtree) against the single path (one SQL query per point), on all of France."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from carto.errors import CartoError
from carto.routing import bulk as bulk_module
from carto.routing.bulk import route_frame, route_many
from carto.routing.decision import RoutingDecision
from carto.routing.resolution import resolve_sql, resolve_sync, to_psycopg
from carto.territories.importer import import_file
from tests.conftest import SHARED

FRANCE = SHARED / "communes-france.fgb"
DEMO_CATEGORIES = ["voirie", "dechets", "proprete", "eclairage", "espaces-verts", "mobilier"]
# Boxes (west, south, east, north) that get extra points: the demo territories and Paris.
HOTSPOTS = [(2.95, 50.55, 3.25, 50.75), (4.75, 45.65, 5.0, 45.85), (2.22, 48.8, 2.3, 48.85),
            (2.25, 48.815, 2.42, 48.902)]  # fmt: skip


def _test_category(conn) -> None:
    """A category routed everywhere to the commune, whose service exists in even INSEE codes
    only: points all over France then end routed, refused for want of a service, or outside."""
    conn.execute(
        """INSERT INTO category (code, label, description, icon, "group", keywords, due_days,
               sort_order, active, domain)
           VALUES ('essai', 'Essai national', '', '', '', '', 10, 99, true, 'l''essai')"""
    )
    conn.execute(
        """INSERT INTO competence_rule (category_code, level, scope_kind, source)
           VALUES ('essai', 'commune', 'everywhere', 'admin')"""
    )
    conn.execute(
        """INSERT INTO service (authority_id, slug, name)
           SELECT authority_id, 'essai', 'Service d''essai' FROM commune
           WHERE right(insee, 1) IN ('0', '2', '4', '6', '8')"""
    )


def _outcome(result: object) -> object:
    """Comparable: a decision as is, an error as (type, message)."""
    return (type(result), result.message) if isinstance(result, CartoError) else result


def _points(n: int) -> tuple[list[float], list[float], list[str]]:
    rng = np.random.default_rng(20261122)
    lons = rng.uniform(-5.2, 9.6, n)
    lats = rng.uniform(41.3, 51.1, n)
    per_box = n // 20
    for k, (w, s, e, north) in enumerate(HOTSPOTS):
        part = slice(k * per_box, (k + 1) * per_box)
        lons[part] = rng.uniform(w, e, per_box)
        lats[part] = rng.uniform(s, north, per_box)
    categories = rng.choice([*DEMO_CATEGORIES, "essai", "essai"], n)
    return [float(x) for x in lons], [float(y) for y in lats], [str(c) for c in categories]


@pytest.mark.slow
@pytest.mark.skipif(not FRANCE.exists(), reason="shared/ data not beside the repository")
def test_bulk_and_single_agree_on_10000_points_over_france(sync_conn, monkeypatch):
    import_file(sync_conn, FRANCE)
    _test_category(sync_conn)
    lons, lats, categories = _points(10_000)
    at = datetime.now(UTC)

    started = time.perf_counter()
    bulk = route_many(sync_conn, lons, lats, categories, at=at)
    bulk_s = time.perf_counter() - started
    started = time.perf_counter()
    single: list[object] = []
    for lon, lat, category in zip(lons, lats, categories, strict=True):
        try:
            single.append(resolve_sync(conn=sync_conn, lon=lon, lat=lat, category_code=category,
                                       at=at))  # fmt: skip
        except CartoError as exc:
            single.append(exc)
    single_s = time.perf_counter() - started
    print(f"\n10,000 points over France: bulk {bulk_s:.1f} s, single path {single_s:.1f} s")

    outcomes: dict[str, int] = {}
    for i, (one, many) in enumerate(zip(single, bulk, strict=True)):
        if isinstance(one, CartoError):
            assert type(many) is type(one) and many.message == one.message, i
            outcomes[one.code] = outcomes.get(one.code, 0) + 1
        else:
            assert many == one, i
            outcomes["routed"] = outcomes.get("routed", 0) + 1
    print(f"outcomes: {outcomes}")
    assert outcomes["routed"] > 1000
    assert outcomes["outside_territory"] > 2000
    assert outcomes["no_competence"] > 2000
    arrondissements = [d for d in bulk if not isinstance(d, CartoError) and d.arrondissement_insee]
    assert {d.commune_insee for d in arrondissements} >= {"75056", "69123"}
    # No wall-clock race here: at 10,000 points over all of France, loading every commune
    # polygon weighs as much as 10,000 indexed queries, and CI machines differ. Speed is
    # measured in bench/routing.py (route_frame against sjoin, the single path's p50).

    # Large batches locate communes with the grid over all of France: the same answers.
    monkeypatch.setattr(bulk_module, "LOCATOR_MIN_POINTS", 0)
    gridded = route_many(sync_conn, lons, lats, categories, at=at)
    assert [_outcome(o) for o in gridded] == [_outcome(o) for o in bulk]
    assert bulk_module.communes_locator(sync_conn, build=False) is not None

    # The single path's commune lookup goes through the GiST index.
    plan = sync_conn.execute(
        "EXPLAIN " + to_psycopg(resolve_sql()),
        {"lon": 3.1779, "lat": 50.6916, "category": "voirie", "at": at},
    ).fetchall()
    assert "idx_commune_geom" in "\n".join(r[0] for r in plan)


def test_route_frame_reprojects_and_reports_each_point(sync_conn):
    lambert = gpd.GeoDataFrame(
        {"category_code": ["proprete", "proprete", "voirie", "inconnue"]},
        geometry=gpd.GeoSeries(
            [shapely.Point(3.1779, 50.6916), shapely.Point(4.8357, 45.7640),
             shapely.Point(4.3525, 50.8467), shapely.Point(3.1779, 50.6916)],
            crs=4326,
            index=["a", "b", "c", "d"],
        ).to_crs(2154),
        index=["a", "b", "c", "d"],
    )  # fmt: skip
    out = route_frame(sync_conn, lambert)
    assert list(out.index) == ["a", "b", "c", "d"]
    assert list(out["status"]) == ["routed", "routed", "outside_territory", "unknown_category"]
    assert list(out["authority"][:2]) == ["Roubaix", "Métropole de Lyon"]
    assert out.loc["b", "commune_insee"] == "69123"
    assert out.loc["d", "commune_insee"] == "59512"  # refused, but located
    assert pd.isna(out.loc["c", "commune_insee"])
    assert out.loc["b", "arrondissement_insee"] == "69382"
    assert len(out.loc["b", "informed_service_ids"]) == 1
    empty = gpd.GeoDataFrame({"category_code": ["voirie"]}, geometry=[None], crs=4326)
    assert list(route_frame(sync_conn, empty)["status"]) == ["invalid_input"]


def test_points_of_one_commune_are_decided_by_their_own_street(sync_conn, tmp_path):
    """Decisions are shared per (commune, category) except where the street decides."""
    from carto.routing.streets import load_streets
    from tests.routing.test_resolve import _write_osm

    load_streets(sync_conn, _write_osm(tmp_path))
    nord = sync_conn.execute(
        "INSERT INTO authority (slug, name, kind, code) VALUES "
        "('departement-du-nord', 'Département du Nord', 'departement', '59') RETURNING id"
    ).fetchone()[0]
    sync_conn.execute(
        """INSERT INTO competence_rule (category_code, level, authority_id, scope_kind,
               scope_code, road_class, source)
           VALUES ('voirie', 'authority', %s, 'departement', '59', 'departementale', 'admin')""",
        (nord,),
    )  # no 'voirie' service at the département: routed there, it is refused
    lons = [3.1750, 3.1750, 3.1750, 3.1750, 3.1750]
    lats = [50.6901, 50.6931, 50.6901, 50.6931, 50.6901]  # a refusal first: not shared
    categories = ["voirie", "voirie", "voirie", "voirie", "proprete"]
    at = datetime.now(UTC)
    bulk = route_many(sync_conn, lons, lats, categories, at=at)
    single: list[object] = []
    for lon, lat, category in zip(lons, lats, categories, strict=True):
        try:
            single.append(resolve_sync(conn=sync_conn, lon=lon, lat=lat, category_code=category,
                                       at=at))  # fmt: skip
        except CartoError as exc:
            single.append(exc)
    assert [_outcome(o) for o in bulk] == [_outcome(o) for o in single]
    assert isinstance(bulk[0], CartoError) and "Département du Nord" in bulk[0].message
    assert isinstance(bulk[1], RoutingDecision) and bulk[1].street_name == "Rue de l'Essai"
    assert isinstance(bulk[4], RoutingDecision) and bulk[4].street_name == "Boulevard de Test"
