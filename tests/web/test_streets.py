"""`/api/v1/streets`: the imported streets inside a street-zoom box, as GeoJSON."""

from __future__ import annotations

import pytest
from sqlalchemy import text

BOX = "3.17,50.688,3.18,50.692"


async def test_streets_inside_the_box_only(client, session):
    await session.execute(
        text("INSERT INTO street_segment (osm_id, name, highway, road_class, geom) VALUES "
             "(1, 'Grand-Rue', 'primary', 'principale', "
             " ST_GeomFromText('LINESTRING(3.172 50.689, 3.176 50.690)', 4326)), "
             "(2, 'Ailleurs', 'residential', 'communale', "
             " ST_GeomFromText('LINESTRING(3.30 50.70, 3.31 50.70)', 4326))")
    )  # fmt: skip
    resp = await client.get("/api/v1/streets", params={"bbox": BOX})
    assert resp.status_code == 200
    data = resp.json()
    assert data["type"] == "FeatureCollection"
    assert [f["properties"] for f in data["features"]] == [
        {"name": "Grand-Rue", "road_class": "principale"}
    ]
    assert data["features"][0]["geometry"]["type"] == "LineString"


async def test_no_streets_imported_is_an_empty_collection(client):
    resp = await client.get("/api/v1/streets", params={"bbox": BOX})
    assert resp.status_code == 200 and resp.json()["features"] == []


@pytest.mark.parametrize(
    "bbox", ["", "1,2,3", "a,b,c,d", "3.18,50.68,3.17,50.69", "nan,0,1,1", "0,0,10,10", "0,0,1,inf"]
)
async def test_bad_or_too_large_boxes_are_refused(client, bbox):
    resp = await client.get("/api/v1/streets", params={"bbox": bbox})
    assert resp.status_code == 422 and resp.json()["message"]
