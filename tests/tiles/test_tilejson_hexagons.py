"""TileJSON 3.0 documents and the H3 hexagon counts."""

from __future__ import annotations

import h3
import pytest
from sqlalchemy import text

from tests.tiles.conftest import LAYER, add_points

LILLE = (3.0573, 50.6292)


@pytest.mark.parametrize("layer", ["communes", "intercommunalites", "signalements", LAYER])
async def test_tilejson_shape(tclient, layer):
    resp = await tclient.get(f"/tiles/{layer}.json")
    assert resp.status_code == 200
    doc = resp.json()
    assert doc["tilejson"] == "3.0.0"
    assert doc["tiles"] == [f"http://test/tiles/{layer}/{{z}}/{{x}}/{{y}}.mvt"]
    west, south, east, north = doc["bounds"]
    assert -180 <= west < east <= 180 and -90 <= south < north <= 90
    assert west < LILLE[0] < east and south < LILLE[1] < north  # the demo's territories
    assert 0 <= doc["minzoom"] <= doc["maxzoom"] <= 24
    [vector_layer] = doc["vector_layers"]
    assert vector_layer["id"] == layer
    assert vector_layer["fields"]["id"] in {"Number", "String"}
    assert len(doc["center"]) == 3


async def test_tilejson_centre_is_on_a_territory(tclient, session):
    """A client that honours `center` opens on a commune (the most populous), not on the
    empty middle of the territories' box (between Lille and Lyon)."""
    lon, lat, zoom = (await tclient.get("/tiles/signalements.json")).json()["center"]
    inside = await session.scalar(
        text(
            "SELECT nom FROM public_layers.communes"
            " WHERE ST_Contains(geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"
        ),
        {"lon": lon, "lat": lat},
    )
    top = await session.scalar(
        text("SELECT nom FROM public_layers.communes ORDER BY population DESC NULLS LAST LIMIT 1")
    )
    assert inside == top and 8 <= zoom <= 14


async def test_tilejson_carries_filters_into_the_tile_url(tclient):
    resp = await tclient.get(f"/tiles/{LAYER}.json", params={"state": "new", "ignored": "x"})
    assert resp.json()["tiles"][0].endswith(".mvt?state=new")
    unknown = await tclient.get("/tiles/inconnue.json")
    assert unknown.status_code == 404 and "Couches disponibles" in unknown.json()["message"]


async def test_hexagon_counts_match_the_points(tclient, session):
    rows = [
        {"lon": LILLE[0] + dx, "lat": LILLE[1] + dy, "service_code": code}
        for dx, dy, code in [(0, 0, "voirie"), (0.0001, 0, "voirie"), (0.05, 0.02, "eclairage")]
    ]
    await add_points(session, rows)
    bbox = "2.9,50.5,3.2,50.8"
    resp = await tclient.get(
        f"/tiles/hexagons/{LAYER}.geojson", params={"bbox": bbox, "resolution": 8}
    )
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/geo+json")
    features = resp.json()["features"]
    counts = {f["properties"]["h3"]: f["properties"]["count"] for f in features}
    assert counts == {
        h3.latlng_to_cell(LILLE[1], LILLE[0], 8): 2,
        h3.latlng_to_cell(LILLE[1] + 0.02, LILLE[0] + 0.05, 8): 1,
    }
    ring = features[0]["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] and len(ring) == 7
    filtered = await tclient.get(
        f"/tiles/hexagons/{LAYER}.geojson",
        params={"bbox": bbox, "resolution": 8, "service_code": "eclairage", "weight": "supports"},
    )
    [only] = filtered.json()["features"]
    assert only["properties"]["count"] == 1 and only["properties"]["weight"] == 0


@pytest.mark.parametrize(
    "params",
    [{"bbox": "3,50,2,51"}, {"bbox": "a,b,c,d"}, {"resolution": 16}, {"bbox": "0,0,1"}],
)
async def test_hexagon_bad_input_is_422(tclient, params):
    resp = await tclient.get(f"/tiles/hexagons/{LAYER}.geojson", params=params)
    assert resp.status_code == 422 and resp.json()["message"]
