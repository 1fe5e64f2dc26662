"""The grid point locator agrees with an exact covered_by test, boundaries included."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from carto.routing.locator import PointLocator
from tests.conftest import DATA

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
