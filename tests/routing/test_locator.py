"""The grid point locator agrees with an exact covered_by test, boundaries included."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from carto.routing.bulk import communes_locator
from carto.routing.locator import PointLocator
from carto.territories.importer import import_file
from tests.conftest import DATA, SHARED

FRANCE = SHARED / "communes-france.fgb"

COMMUNES = gpd.read_file(DATA / "communes-demo.geojson")
COMMUNES = COMMUNES[COMMUNES["type"] == "COM"].reset_index(drop=True)
LOCATOR = PointLocator.build(COMMUNES["insee"].values, COMMUNES.geometry.values, cell_size=0.01)


def exact(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Reference: lowest INSEE code among the communes covering each point, or '-'."""
    points = shapely.points(lon, lat)
    out = np.full(len(points), "-", dtype=object)
    for i, point in enumerate(points):
        codes = sorted(COMMUNES.loc[COMMUNES.geometry.covers(point), "insee"])
        out[i] = codes[0] if codes else "-"
    return out


def codes_of(found: np.ndarray) -> np.ndarray:
    return np.where(found >= 0, LOCATOR.codes[np.maximum(found, 0)], "-")


def test_random_points_over_the_three_territories():
    rng = np.random.default_rng(7)
    minx, miny, maxx, maxy = COMMUNES.total_bounds
    lon, lat = rng.uniform(minx, maxx, 3000), rng.uniform(miny, maxy, 3000)
    found = codes_of(LOCATOR.locate(lon, lat))
    assert (found == exact(lon, lat)).all()
    assert (found != "-").sum() > 0 and LOCATOR.settled_share(lon, lat) > 0.5


def test_vertices_on_shared_boundaries_go_to_the_lowest_code():
    roubaix = COMMUNES.loc[COMMUNES["insee"] == "59512"].geometry.iloc[0]
    vertices = shapely.get_coordinates(roubaix)[:200]
    found = codes_of(LOCATOR.locate(vertices[:, 0], vertices[:, 1]))
    assert (found == exact(vertices[:, 0], vertices[:, 1])).all()
    assert (found <= "59512").all()  # a shared vertex goes to the lowest INSEE code


@settings(max_examples=60, deadline=None)
@given(
    st.floats(min_value=2.0, max_value=5.0, allow_nan=False),
    st.floats(min_value=45.0, max_value=51.0, allow_nan=False),
)
def test_any_point_matches_the_exact_test(lon: float, lat: float):
    found = codes_of(LOCATOR.locate(np.array([lon]), np.array([lat])))
    assert found[0] == exact(np.array([lon]), np.array([lat]))[0]


@pytest.mark.slow
@pytest.mark.skipif(not FRANCE.exists(), reason="shared/ data not beside the repository")
def test_france_grid_matches_postgis_st_covers_boundaries_included(sync_conn):
    """All French communes: the cached grid locator and PostGIS (ST_Covers, lowest INSEE)
    agree on random points, on boundary vertices (shared ones included) and on points
    a hair inside or outside the boundary."""
    import_file(sync_conn, FRANCE)
    locator = communes_locator(sync_conn)
    assert locator is not None and communes_locator(sync_conn, build=False) is locator
    rng = np.random.default_rng(31)
    lon, lat = rng.uniform(-5.2, 9.6, 4000), rng.uniform(41.3, 51.1, 4000)
    vertices = shapely.get_coordinates(locator.polygons[rng.choice(len(locator.codes), 300)])
    vertices = vertices[rng.choice(len(vertices), 3000)]
    nudged = vertices + rng.normal(0, 1e-7, vertices.shape)
    xs = np.concatenate([lon, vertices[:, 0], nudged[:, 0]])
    ys = np.concatenate([lat, vertices[:, 1], nudged[:, 1]])
    found = locator.locate(xs, ys)
    ours = np.where(found >= 0, locator.codes[np.maximum(found, 0)], None)
    rows = sync_conn.execute(
        """SELECT (SELECT c.insee FROM commune c
                   WHERE ST_Covers(c.geom, ST_SetSRID(ST_MakePoint(p.x, p.y), 4326))
                   ORDER BY c.insee LIMIT 1)
           FROM unnest(%s::float8[], %s::float8[]) WITH ORDINALITY AS p(x, y, i)
           ORDER BY p.i""",
        (xs.tolist(), ys.tolist()),
    ).fetchall()
    theirs = np.array([r[0] for r in rows], dtype=object)
    assert (ours == theirs).all(), np.flatnonzero(ours != theirs)[:10]
    assert (theirs[4000:7000] != None).all()  # noqa: E711 - every vertex is in a commune
    assert locator.settled_share(lon, lat) > 0.8
