"""`route_frame` decides as the single path does, point for point, on a sample of France
(every EPCI category, the Métropole du Grand Paris, Corsica, La Réunion, arrondissements,
points at sea), from its cached decision tables, and sees a rule change at once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import pytest

from carto.errors import CartoError, OutsideTerritory
from carto.routing import bulk as bulk_module
from carto.routing.bulk import route_frame
from carto.routing.bulk_frame import OUTSIDE_ROW
from carto.routing.resolution import resolve_sync
from tests.territories.test_france_national import FRANCE, _import, sample  # noqa: F401

pytestmark = pytest.mark.skipif(
    not FRANCE.exists(), reason="shared/ data not beside the repository"
)
CATEGORIES = ["voirie", "dechets", "proprete", "eclairage", "espaces-verts", "mobilier"]
AT_SEA = [(-1.5, 46.0), (8.0, 42.0), (55.2, -21.5), (3.0, 43.3)]  # Atlantic, Corsica, Réunion
TOULOUSE = (1.4442, 43.6047)
NOT_A_POINT = (200.0, 45.0)  # refused as the single path refuses it, among valid points


def _points(conn: psycopg.Connection, rng: np.random.Generator) -> list[tuple[float, float]]:
    """A point inside every third commune and every arrondissement, random points around
    them (some on other communes, some at sea), and points at sea."""
    rows = conn.execute(
        """SELECT ST_X(p), ST_Y(p) FROM (
               SELECT ST_PointOnSurface(geom) p, insee FROM commune
               WHERE insee ~ '^(31|75|92|93|94|2A|974|72)' OR insee = '69123'
               UNION ALL SELECT ST_PointOnSurface(geom), insee FROM arrondissement) s
           ORDER BY insee"""
    ).fetchall()
    inside = [(float(x), float(y)) for x, y in rows[::3]]
    jitter = [(x + rng.normal(0, 0.05), y + rng.normal(0, 0.05)) for x, y in inside[::2]]
    return inside + jitter + AT_SEA


def _single(conn: psycopg.Connection, lon: float, lat: float, category: str, at: datetime) -> Any:
    try:
        return resolve_sync(conn=conn, lon=lon, lat=lat, category_code=category, at=at)
    except CartoError as exc:
        return exc


def _plain(value: Any) -> Any:
    """A frame's missing value (NaN, NA) as None, to compare with a decision's."""
    return None if not isinstance(value, tuple) and pd.isna(value) else value


def _assert_same(frame: pd.DataFrame, singles: list[Any]) -> dict[str, int]:
    seen: dict[str, int] = {}
    for (_, row), one in zip(frame.iterrows(), singles, strict=True):
        if isinstance(one, CartoError):
            assert row["status"] == one.code, row.name
            expected = OUTSIDE_ROW if isinstance(one, OutsideTerritory) else one.message
            assert row["message"] == expected, row.name
            key = one.code
        else:
            got = (row["status"], row["commune_insee"], row["arrondissement_insee"],
                   row["intercommunalite_siren"], row["rule_id"], row["authority_id"],
                   row["authority"], row["service_id"], row["service"],
                   row["informed_service_ids"], row["explanation"], row["rule_kind"],
                   row["legal_basis"])  # fmt: skip
            want = ("routed", one.commune_insee, one.arrondissement_insee,
                    one.intercommunalite_siren, one.rule_id, one.authority_id,
                    one.authority_name, one.service_id, one.service_name,
                    tuple(i.service_id for i in one.informed), one.explanation, one.rule_kind,
                    one.legal_basis)  # fmt: skip
            assert tuple(map(_plain, got)) == want, row.name
            key = f"routed {one.rule_kind}"
        seen[key] = seen.get(key, 0) + 1
    return seen


def test_route_frame_decides_as_the_single_path(sync_conn, sample, monkeypatch):  # noqa: F811
    _import(sync_conn, sample)
    rng = np.random.default_rng(20261207)
    points = [NOT_A_POINT, *_points(sync_conn, rng), TOULOUSE]
    categories = [*(str(c) for c in rng.choice(CATEGORIES, len(points) - 1)), "dechets"]
    frame = gpd.GeoDataFrame(
        {"category_code": categories},
        geometry=gpd.points_from_xy([p[0] for p in points], [p[1] for p in points]),
        crs=4326,
    )
    at = datetime.now(UTC)
    singles = [
        _single(sync_conn, x, y, c, at) for (x, y), c in zip(points, categories, strict=True)
    ]

    seen = _assert_same(route_frame(sync_conn, frame, at=at), singles)  # STRtree, tables filled
    assert seen["routed default"] > 200 and seen["outside_territory"] >= len(AT_SEA)
    assert seen["invalid_input"] == 1
    routed = [s for s in singles if not isinstance(s, CartoError)]
    assert {s.commune_insee for s in routed if s.arrondissement_insee} >= {"75056", "69123"}
    assert {"L5217-2", "L5216-5", "L5215-20", "L5219-5"} <= {
        b for s in routed for b in (s.legal_basis or "").replace(",", " ").split()
    }
    monkeypatch.setattr(bulk_module, "LOCATOR_MIN_POINTS", 0)  # the grid, tables reused
    assert _assert_same(route_frame(sync_conn, frame, at=at), singles) == seen

    # A rule confirmed by an authority: the next batch sees it (a new version stamp).
    metropole = resolve_sync(
        conn=sync_conn, lon=TOULOUSE[0], lat=TOULOUSE[1], category_code="voirie"
    )
    sync_conn.execute(
        """INSERT INTO service (authority_id, slug, name) VALUES (%s, 'dechets-ville', 'Propreté')
           ON CONFLICT DO NOTHING""",
        (metropole.authority_id,),
    )
    sync_conn.execute(
        """INSERT INTO competence_rule (category_code, level, authority_id, scope_kind,
               scope_code, service_slug, source)
           VALUES ('dechets', 'authority', %s, 'commune', '31555', 'dechets-ville', 'admin')""",
        (metropole.authority_id,),
    )
    after = [_single(sync_conn, x, y, c, at) for (x, y), c in zip(points, categories, strict=True)]
    out = route_frame(sync_conn, frame, at=at)
    changed = _assert_same(out, after)
    assert changed["routed confirmed"] == seen["routed confirmed"] + 1
    assert (out["rule_kind"].iloc[-1], out["service"].iloc[-1]) == ("confirmed", "Propreté")

    # One category for all, road classes given: one table per road class.
    roads = gpd.GeoDataFrame(
        {"road_class": rng.choice(["departementale", "communale", None], len(points))},
        geometry=frame.geometry,
    )
    expected = [
        _single_road(sync_conn, x, y, r, at)
        for (x, y), r in zip(points, roads["road_class"], strict=True)
    ]
    _assert_same(route_frame(sync_conn, roads, category_code="voirie", at=at), expected)


def _single_road(conn: psycopg.Connection, lon: float, lat: float, road: Any, at: datetime) -> Any:
    try:
        return resolve_sync(conn=conn, lon=lon, lat=lat, category_code="voirie", at=at,
                            road_class=road if isinstance(road, str) else None)  # fmt: skip
    except CartoError as exc:
        return exc


def test_arrondissements_and_postcodes_stamp_the_routing_version(sync_conn):
    def version() -> tuple[str, str]:
        row = sync_conn.execute(
            "SELECT version::text, territories::text FROM routing_version"
        ).fetchone()
        return row[0], row[1]

    before = version()
    sync_conn.execute("INSERT INTO geocode_postcode (insee, postcode) VALUES ('69123', '69999')")
    after_postcode = version()
    assert after_postcode[0] != before[0] and after_postcode[1] == before[1]
    sync_conn.execute("UPDATE arrondissement SET nom = nom WHERE insee = '69382'")
    after_arr = version()
    assert after_arr[0] != after_postcode[0] and after_arr[1] != after_postcode[1]
