"""Pure checks: strict GeoJSON reading and the personal-data detector."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carto.concertations.geojson import parse_geometry, parse_perimeter
from carto.concertations.personal_data import hold_reason, personal_data_reasons
from carto.errors import InvalidInput
from carto.geo import MERCATOR_MAX_LAT, parse_bbox

ALL = ("Point", "LineString", "Polygon")


@given(
    st.floats(allow_nan=True, allow_infinity=True), st.floats(allow_nan=True, allow_infinity=True)
)
def test_any_point_is_accepted_exactly_when_finite_and_in_range(lon, lat):
    valid = math.isfinite(lon) and math.isfinite(lat) and abs(lon) <= 180 and abs(lat) <= 90
    geom = {"type": "Point", "coordinates": [lon, lat]}
    if valid:
        assert parse_geometry(geom, allowed=ALL).coords[0] == (lon, lat)
    else:
        with pytest.raises(InvalidInput):
            parse_geometry(geom, allowed=ALL)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
        ),
        max_leaves=20,
    )
)
def test_garbage_never_escapes_as_anything_but_invalid_input(value):
    for payload in (
        value,
        {"type": "Polygon", "coordinates": value},
        {"type": "LineString", "coordinates": value},
    ):
        try:
            parse_geometry(payload, allowed=ALL)
        except InvalidInput as exc:
            assert exc.message.startswith(("Géométrie invalide", "Cette concertation"))


def test_size_caps():
    ring = [[3.0 + i * 1e-6, 50.0 + (i % 2) * 1e-6] for i in range(6000)]
    with pytest.raises(InvalidInput, match="trop de sommets"):
        parse_geometry({"type": "LineString", "coordinates": ring}, allowed=ALL)
    huge = [[[2.0, 48.0], [4.0, 48.0], [4.0, 50.0], [2.0, 50.0], [2.0, 48.0]]]
    with pytest.raises(InvalidInput, match="trop étendue"):
        parse_geometry({"type": "Polygon", "coordinates": huge}, allowed=ALL)
    assert parse_perimeter({"type": "Polygon", "coordinates": huge}).area == 4.0


def test_bbox():
    """The one bbox parser (carto.geo), as every route uses it."""
    assert parse_bbox("3,50,3.1,50.7") == (3.0, 50.0, 3.1, 50.7)
    assert parse_bbox("3,50,3.1,50.7").west == 3.0
    for bad in ("3,50,3.1", "a,b,c,d", "3,50,2,51", "3,50,200,51", "3,50,3,51", "nan,1,2,3"):
        with pytest.raises(InvalidInput):
            parse_bbox(bad)
    assert parse_bbox("3,50,3,51", allow_flat=True).east == 3.0  # OGC items' filters
    with pytest.raises(InvalidInput, match="latitudes"):
        parse_bbox("3,80,4,86", max_lat=MERCATOR_MAX_LAT)  # H3 hexagons, tiles


@pytest.mark.parametrize(
    "text",
    [
        "06 12 34 56 78",
        "0612345678",
        "+33 6 12 34 56 78",
        "+33 (0)1 23 45 67 89",
        "06.12.34.56.78",
        "0033 6 12 34 56 78",
        "07-12-34-56-78",
    ],
)
def test_french_phone_numbers_are_held(text):
    assert personal_data_reasons(f"Appelez-moi au {text} merci") == ["numéro de téléphone"]


@pytest.mark.parametrize(
    "text", ["jean.dupont@gmail.com", "jean (at) gmail (dot) com", "jean arobase free point fr"]
)
def test_email_addresses_are_held(text):
    assert personal_data_reasons(f"écrivez à {text}") == ["adresse e-mail"]


@pytest.mark.parametrize(
    "text",
    [
        "Il y a 300 arbres et 12 bancs",
        "Bus 12 toutes les 10 minutes, ligne 1234567",
        "Budget 2024-2026 : 1 500 000 euros",
        "Rue du 8 mai 1945, code 75015",
        "Parking de 120 places",
    ],
)
def test_ordinary_numbers_are_not_held(text):
    assert hold_reason(text) is None
