"""OGC API - Features at /ogc, through HTTP and through GDAL's OAPIF driver."""

from __future__ import annotations

import re

import httpx
import psycopg
import pytest
import shapely

from tests.layers.conftest import gdal, ogr_geojson, public_views

CONTRACT_COLLECTIONS = {"communes", "intercommunalites"}


def get(url: str, **params: str) -> httpx.Response:
    return httpx.get(url, params=params or None, timeout=60)  # None keeps the URL's query


def test_collections_are_the_public_views(live_url: str, demo_db: str) -> None:
    body = get(f"{live_url}/ogc/collections").json()
    ids = {c["id"] for c in body["collections"]}
    assert ids == set(public_views(demo_db))
    assert ids >= CONTRACT_COLLECTIONS
    communes = next(c for c in body["collections"] if c["id"] == "communes")
    assert communes["description"].startswith("Limites des communes")  # the view's comment
    assert get(f"{live_url}/ogc/collections/communes").json()["title"] == "Communes"
    intercos = next(c for c in body["collections"] if c["id"] == "intercommunalites")
    assert "communautés urbaines, d'agglomération et de communes" in intercos["description"]
    west, south, east, north = communes["extent"]["spatial"]["bbox"][0]
    assert 2 < west < east < 6 and 45 < south < north < 51  # lon/lat of the three territories


def test_landing_page_and_honest_conformance(live_url: str) -> None:
    landing = get(f"{live_url}/ogc/").json()
    rels = {link["rel"]: link["href"] for link in landing["links"]}
    assert rels["conformance"] == f"{live_url}/ogc/conformance"
    assert rels["data"] == f"{live_url}/ogc/collections"
    assert get(rels["service-desc"]).json()["paths"]  # the sub-app's own OpenAPI document
    classes = get(f"{live_url}/ogc/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in classes
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in classes
    assert not any("ogcapi-features-2" in c for c in classes)  # no crs parameter offered


def test_communes_items_page_with_next_link(live_url: str) -> None:
    resp = get(f"{live_url}/ogc/collections/communes/items", limit="5")
    assert resp.headers["content-type"].startswith("application/geo+json")
    page = resp.json()
    assert page["numberReturned"] == 5 and page["numberMatched"] == 161
    props = page["features"][0]["properties"]
    assert {"insee", "nom", "population"} <= set(props)
    assert page["features"][0]["id"] == props["insee"]  # stable ids: the view's id column
    nxt = next(link["href"] for link in page["links"] if link["rel"] == "next")
    second = get(nxt).json()
    first_ids = {f["id"] for f in page["features"]}
    assert second["numberReturned"] == 5 and not first_ids & {f["id"] for f in second["features"]}
    offset = get(f"{live_url}/ogc/collections/communes/items", limit="5", offset="5").json()
    assert [f["id"] for f in offset["features"]] == [f["id"] for f in second["features"]]


def test_bbox_property_datetime_and_cql2_filters(live_url: str) -> None:
    items = f"{live_url}/ogc/collections/communes/items"
    roubaix = get(items, nom="Roubaix").json()
    assert [f["id"] for f in roubaix["features"]] == ["59512"]
    near = get(items, bbox="3.17,50.68,3.19,50.70", limit="100").json()
    assert "59512" in {f["id"] for f in near["features"]}
    assert near["numberMatched"] < 10
    big = get(items, filter="population > 400000", limit="100").json()
    assert {f["properties"]["nom"] for f in big["features"]} == {"Lyon"}
    assert get(items, datetime="2000-01-01T00:00:00Z/..").json()["numberMatched"] == 161
    assert get(items, datetime="../2000-01-01T00:00:00Z").json()["numberMatched"] == 0


def test_one_item_and_unknown_ones(live_url: str) -> None:
    item = get(f"{live_url}/ogc/collections/communes/items/59512").json()
    assert item["properties"]["nom"] == "Roubaix" and item["geometry"]["type"] == "MultiPolygon"
    for path in ("communes/items/00000", "nope/items", "nope"):
        resp = get(f"{live_url}/ogc/collections/{path}")
        assert resp.status_code == 404, path
        assert resp.json()["error"] == "not_found"


@pytest.mark.parametrize(
    "params",
    [
        {"bbox": "a,b,c,d"},
        {"bbox": "1,2,3"},
        {"bbox": "0,0,200,10"},
        {"population": "beaucoup"},
        {"datetime": "hier"},
        {"datetime": "2026-01-01T00:00:00Z/2025-01-01T00:00:00Z"},
        {"limit": "-1"},
        {"offset": "x"},
        {"filter": "population >>> 3"},
        {"filter": "inconnue = 3"},
        {"sortby": "inconnue"},
    ],
)
def test_bad_input_answers_a_french_4xx(live_url: str, params: dict[str, str]) -> None:
    resp = get(f"{live_url}/ogc/collections/communes/items", **params)
    assert 400 <= resp.status_code < 500, resp.text
    body = resp.json()
    assert body["error"] in {"invalid_input", "not_found", "unsupported_filter"} and body["message"]


def test_html_pages(live_url: str) -> None:
    for path in ("/", "/conformance", "/collections", "/collections/communes"):
        resp = get(f"{live_url}/ogc{path}", f="html")
        assert resp.status_code == 200, path
        assert resp.headers["content-type"].startswith("text/html")
    items = get(f"{live_url}/ogc/collections/communes/items", f="html", nom="Roubaix")
    assert items.status_code == 200 and "Roubaix" in items.text


def test_gdal_lists_and_counts_every_collection(live_url: str, demo_db: str) -> None:
    source = f"OAPIF:{live_url}/ogc"
    listing = gdal("ogrinfo", "-ro", source)
    listed = set(re.findall(r"^\d+: (\S+)", listing, flags=re.M))
    counts = public_views(demo_db)
    assert listed == set(counts)
    for name, count in counts.items():
        summary = gdal("ogrinfo", "-ro", "-so", source, name)
        assert f"Feature Count: {count}" in summary, (name, summary)


def test_gdal_reads_attributes_and_geometries(live_url: str, demo_db: str) -> None:
    read = ogr_geojson(f"OAPIF:{live_url}/ogc", "communes")
    with psycopg.connect(demo_db) as conn:
        rows = conn.execute(
            "SELECT insee, nom, population, ST_AsBinary(geom) FROM public_layers.communes"
        ).fetchall()
    expected = {r[0]: r for r in rows}
    assert len(read["features"]) == len(expected) == 161
    for feature in read["features"]:
        props = feature["properties"]
        insee, nom, population, wkb = expected[props["insee"]]
        assert (props["nom"], props["population"]) == (nom, population)
        got = shapely.geometry.shape(feature["geometry"])
        assert shapely.hausdorff_distance(got, shapely.from_wkb(bytes(wkb))) < 1e-6
