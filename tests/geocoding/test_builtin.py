"""The built-in geocoder on the BAN fixture and the demo territories, through the API."""

from __future__ import annotations

import psycopg
import pytest

from carto.routing.streets import load_streets

from .cases import FIXTURE_QUERIES

FIXTURE_12_NATIONALE = (3.056920, 50.635791)  # tests/data/adresses-fixture.csv


async def top(client, q, **params):
    resp = await client.get("/api/v1/geocode", params={"q": q, **params})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["type"] == "FeatureCollection"
    assert body["features"], f"nothing for {q!r}"
    return body["features"][0]


async def test_the_issue_example_lands_on_the_spot(client, ban_loaded):
    feat = await top(client, "12 rue Nationale, Lille")
    props = feat["properties"]
    assert props["type"] == "housenumber"
    assert props["label"] == "12 Rue Nationale 59000 Lille"
    assert (props["housenumber"], props["street"], props["name"]) == (
        "12",
        "Rue Nationale",
        "12 Rue Nationale",
    )
    assert (props["citycode"], props["postcode"], props["city"]) == ("59350", "59000", "Lille")
    assert feat["geometry"]["coordinates"] == list(FIXTURE_12_NATIONALE)
    assert 0 < props["score"] <= 1
    bis = (await top(client, "12 bis rue nationale lille"))["properties"]
    assert bis["housenumber"] == "12 bis" and bis["id"] == "59350_0037_00012_bis"


@pytest.mark.parametrize(("q", "citycode", "kind"), FIXTURE_QUERIES)
async def test_french_queries(client, ban_loaded, q, citycode, kind):
    props = (await top(client, q))["properties"]
    assert (props["citycode"], props["type"]) == (citycode, kind), props


async def test_the_map_view_breaks_ties(client, ban_loaded):
    near_tourcoing = await top(client, "rue nationale", lon=3.16, lat=50.72)
    near_lille = await top(client, "rue nationale", lon=3.06, lat=50.63)
    assert near_tourcoing["properties"]["citycode"] == "59599"
    assert near_lille["properties"]["citycode"] == "59350"


async def test_too_short_finds_nothing(client, ban_loaded):
    for q in ("a", "ly", "%a_"):
        resp = await client.get("/api/v1/geocode", params={"q": q})
        assert resp.status_code == 200 and resp.json()["features"] == []
    assert (await top(client, "lyo"))["properties"]["city"].startswith("Lyon")


async def test_limit_and_postcode_filter(client, ban_loaded):
    resp = await client.get("/api/v1/geocode", params={"q": "rue", "limit": 3})
    assert len(resp.json()["features"]) == 3
    resp = await client.get("/api/v1/geocode", params={"q": "rue nationale 59200"})
    assert {f["properties"]["citycode"] for f in resp.json()["features"]} == {"59599"}


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"q": "%"}, 200),
        ({"q": "_"}, 200),
        ({"q": "%%%_ _%"}, 200),
        ({"q": "'; DROP TABLE geocode_address; --"}, 200),
        ({"q": "1' OR '1'='1"}, 200),
        ({"q": "x" * 10_000}, 400),
        ({"q": "rue\x00x"}, 400),
        ({"q": ""}, 400),
        ({}, 400),
        ({"q": "Lille", "limit": 0}, 422),
        ({"q": "Lille", "limit": 10_000}, 422),
        ({"q": "Lille", "lon": 3.0}, 400),
        ({"q": "Lille", "lon": "abc", "lat": 1}, 422),
        ({"q": "Lille", "lon": 500, "lat": 1}, 422),
    ],
)
async def test_hostile_queries_are_4xx_or_results(client, ban_loaded, params, status):
    resp = await client.get("/api/v1/geocode", params=params)
    assert resp.status_code == status, resp.text
    if status >= 400:
        assert resp.json()["message"] if status == 400 else resp.json()
    else:
        assert resp.json()["type"] == "FeatureCollection"
    still = await client.get("/api/v1/geocode", params={"q": "12 rue nationale lille"})
    assert still.json()["features"][0]["properties"]["type"] == "housenumber"


async def reverse(client, lon, lat):
    resp = await client.get("/api/v1/geocode/reverse", params={"lon": lon, "lat": lat})
    assert resp.status_code == 200, resp.text
    return resp.json()["features"]


async def test_reverse_address_then_street_then_commune(client, ban_loaded):
    lon, lat = FIXTURE_12_NATIONALE
    (feat,) = await reverse(client, lon + 0.0001, lat)  # ~7 m away
    props = feat["properties"]
    assert props["type"] == "housenumber" and props["street"] == "Rue Nationale"
    assert props["citycode"] == "59350" and props["distance"] < 20
    (feat,) = await reverse(client, lon, lat + 0.0007)  # ~60-80 m from the numbers
    assert feat["properties"]["type"] == "street", feat
    assert feat["properties"]["name"] == "Rue Nationale"
    (feat,) = await reverse(client, 3.0635, 50.6366)  # central Lille, no address near
    assert feat["properties"]["type"] == "municipality"
    assert (feat["properties"]["citycode"], feat["properties"]["postcode"]) == ("59350", "59000")
    (feat,) = await reverse(client, 4.8590, 45.7560)  # Lyon 3e: the arrondissement
    assert feat["properties"]["citycode"] == "69383"
    assert await reverse(client, -4.0, 47.0) == []  # at sea
    bad = await client.get("/api/v1/geocode/reverse", params={"lon": 3.0})
    assert bad.status_code == 422


ROUBAIX_OSM = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="carto-tests">
  <node id="1" lat="50.6930" lon="3.1700"/>
  <node id="2" lat="50.6930" lon="3.1800"/>
  <node id="3" lat="50.6900" lon="3.1700"/>
  <node id="4" lat="50.6900" lon="3.1800"/>
  <way id="11"><nd ref="1"/><nd ref="2"/>
    <tag k="highway" v="residential"/><tag k="name" v="Rue de l'Essai"/></way>
  <way id="12"><nd ref="3"/><nd ref="4"/><tag k="highway" v="footway"/></way>
</osm>
"""


@pytest.fixture
def osm_streets(demo_db, tmp_path):
    """Named streets from `carto import streets`, committed (the API reads them)."""
    path = tmp_path / "roubaix.osm"
    path.write_text(ROUBAIX_OSM)
    with psycopg.connect(demo_db) as conn:
        load_streets(conn, path)
    yield
    with psycopg.connect(demo_db) as conn:
        # DELETE, not TRUNCATE: the test's own session may still hold a read lock
        conn.execute("DELETE FROM street_segment; DELETE FROM street_import")


async def test_osm_street_names_are_searched_and_reversed(osm_streets, client, ban_loaded):
    props = (await top(client, "rue de l'essai roubaix"))["properties"]
    assert (props["type"], props["name"], props["citycode"]) == (
        "street",
        "Rue de l'Essai",
        "59512",
    )
    assert props["postcode"] == "59100"
    (feat,) = await reverse(client, 3.1750, 50.6932)  # ~20 m from the way, no address near
    assert (feat["properties"]["type"], feat["properties"]["name"]) == ("street", "Rue de l'Essai")
    assert feat["properties"]["citycode"] == "59512"
    # the unnamed footway is never an answer: next to it, the commune
    (feat,) = await reverse(client, 3.1750, 50.6901)
    assert feat["properties"]["type"] == "municipality"


async def test_reverse_is_one_statement_for_intake(session, ban_loaded):
    """Intake will call reverse() on its own session: one round trip, nothing else."""
    from sqlalchemy import event

    from carto.geocoding.builtin import BuiltinGeocoder

    statements: list[str] = []
    sync_conn = (await session.connection()).sync_connection
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(sync_conn, "before_cursor_execute", listener)
    try:
        lon, lat = FIXTURE_12_NATIONALE
        (place,) = await BuiltinGeocoder().reverse(lon, lat, session=session)
    finally:
        event.remove(sync_conn, "before_cursor_execute", listener)
    assert len(statements) == 1
    assert (place.type, place.housenumber, place.postcode) == ("housenumber", "12", "59000")
    assert place.label == "12 Rue Nationale 59000 Lille"
