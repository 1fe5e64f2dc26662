"""What outside clients find in the OGC API: GDAL filters on the server, lenient limits,
JSON as GeoJSON, one OpenAPI version, French titles."""

from __future__ import annotations

import json
import re
import subprocess
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import psycopg
import pytest

from tests.layers.conftest import public_views

MAX_LIMIT = 10000


def _probe(db_url: str, view: str) -> tuple[str, str, tuple[float, float, float, float], int]:
    """A text property of `view`, the value of its first row, a box around that row, and
    how many rows have that value inside the box."""
    with psycopg.connect(db_url) as conn:
        columns = [
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema ="
                " 'public_layers' AND table_name = %s AND data_type IN ('text',"
                " 'character varying') AND column_name <> 'id' ORDER BY ordinal_position",
                (view,),
            )
        ]
        for column in columns:
            row = conn.execute(
                f'SELECT "{column}", ST_XMin(g), ST_YMin(g), ST_XMax(g), ST_YMax(g) FROM'
                f' (SELECT "{column}", ST_Expand(ST_Envelope(geom), 0.01) g'
                f' FROM public_layers."{view}" WHERE "{column}" IS NOT NULL'
                f" AND \"{column}\" !~ '''' ORDER BY id LIMIT 1) s"
            ).fetchone()
            if row is None:
                continue
            value, *box = row
            count = conn.execute(
                f'SELECT count(*) FROM public_layers."{view}" WHERE "{column}" = %s'
                " AND ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))",
                (value, *box),
            ).fetchone()
            assert count is not None
            return column, str(value), (box[0], box[1], box[2], box[3]), int(count[0])
    raise AssertionError(f"no text property to filter {view} on")


def test_gdal_filters_every_collection_on_the_server(live_url: str, demo_db: str) -> None:
    for view in sorted(public_views(demo_db)):
        column, value, box, expected = _probe(demo_db, view)
        command = [
            "ogr2ogr", "--debug", "on", "-f", "GeoJSON", "/vsistdout/", f"OAPIF:{live_url}/ogc",
            view, "-where", f"{column} = '{value}'", "-spat", *(str(v) for v in box),
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-1500:]
        assert "evaluated on client side" not in done.stderr, (view, done.stderr[-1500:])
        assert "ERROR" not in done.stderr, (view, done.stderr[-1500:])
        fetched = re.findall(r"HTTP: Fetch\((\S+/collections/[^/]+/items\?\S*)\)", done.stderr)
        query = parse_qs(urlsplit(fetched[-1]).query)
        assert query["filter-lang"] == ["cql-text"] and "bbox" in query, fetched[-1]
        assert unquote(query["filter"][0]) == f"{column} = '{value}'"
        features = json.loads(done.stdout)["features"]
        assert len(features) == expected > 0, view
        assert {f["properties"][column] for f in features} == {value}


def test_filters_are_declared_where_clients_look(live_url: str) -> None:
    classes = httpx.get(f"{live_url}/ogc/conformance", timeout=30).json()["conformsTo"]
    for name in ("cql2-text", "basic-cql2", "cql2-json"):
        assert f"http://www.opengis.net/spec/cql2/1.0/conf/{name}" in classes
    assert "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables" in classes
    landing = httpx.get(f"{live_url}/ogc/", timeout=30).json()
    desc = next(link for link in landing["links"] if link["rel"] == "service-desc")
    assert desc["type"] == "application/vnd.oai.openapi+json;version=3.0"
    resp = httpx.get(desc["href"], timeout=30)
    assert resp.headers["content-type"] == desc["type"]
    api = resp.json()
    assert api["openapi"].startswith("3.0.") and '"type": "null"' not in json.dumps(api)
    params = {
        p["name"]: p for p in api["paths"]["/collections/communes/items"]["get"]["parameters"]
    }
    assert {"nom", "insee", "population", "filter", "bbox"} <= set(params)
    assert params["population"]["schema"] == {"type": "integer"}
    assert "cql-text" in params["filter-lang"]["schema"]["enum"]
    queryables = httpx.get(
        f"{live_url}/ogc/collections/communes/queryables",
        headers={"Accept": "application/json"},
        timeout=30,
    )
    assert queryables.headers["content-type"].startswith("application/json")
    assert "nom" in queryables.json()["properties"]


def test_cql_text_is_read_as_cql2_text(live_url: str) -> None:
    items = httpx.get(
        f"{live_url}/ogc/collections/communes/items",
        params={"filter": "nom = 'Roubaix'", "filter-lang": "cql-text"},
        timeout=30,
    ).json()
    assert [f["id"] for f in items["features"]] == ["59512"]


def test_limit_above_the_maximum_is_capped(live_url: str) -> None:
    resp = httpx.get(
        f"{live_url}/ogc/collections/communes/items", params={"limit": "20000"}, timeout=60
    )
    assert resp.status_code == 200, resp.text
    page = resp.json()
    assert page["numberReturned"] == page["numberMatched"] == 161  # all of them, under the cap
    this = next(link["href"] for link in page["links"] if link["rel"] == "self")
    assert parse_qs(urlsplit(this).query)["limit"] == [str(MAX_LIMIT)]


@pytest.mark.parametrize("path", ["items", "items/59512"])
def test_accept_json_gives_geojson(live_url: str, path: str) -> None:
    resp = httpx.get(
        f"{live_url}/ogc/collections/communes/{path}",
        params={"limit": "2"} if path == "items" else None,
        headers={"Accept": "application/json"},
        timeout=30,
    )
    body = resp.json()
    assert body["type"] in {"FeatureCollection", "Feature"}
    feature = body["features"][0] if body["type"] == "FeatureCollection" else body
    assert feature["geometry"]["type"] == "MultiPolygon" and "SRID=" not in resp.text


def test_collections_say_what_they_hold_in_french(live_url: str, demo_db: str) -> None:
    listed = httpx.get(f"{live_url}/ogc/collections", timeout=30).json()["collections"]
    for item in listed:
        one = httpx.get(f"{live_url}/ogc/collections/{item['id']}", timeout=30).json()
        assert (item["title"], item["description"]) == (one["title"], one["description"])
        assert item["title"] != item["id"] and item["description"] != item["title"]
    by_id = {c["id"]: c for c in listed}
    assert by_id["signalements"]["title"] == "Signalements"
    with psycopg.connect(demo_db) as conn:
        row = conn.execute(
            "SELECT count(*), string_agg(DISTINCT c.nom, ', ') FROM public_layers.arrondissements"
            " r JOIN public_layers.communes c ON c.insee = r.commune_insee"
        ).fetchone()
    assert row is not None
    description = by_id["arrondissements"]["description"]
    assert description.startswith(f"{row[0]} arrondissements municipaux de {row[1]}")
    for city in {"Paris", "Marseille", "Lyon"} - set(str(row[1]).split(", ")):
        assert city not in description


@pytest.mark.parametrize(
    ("conformance", "cql"),
    [
        ("basic-cql2", "nom = 'Roubaix' AND population > 1"),
        (
            "advanced-comparison-operators",
            "nom LIKE 'Roubai%' AND population BETWEEN 1 AND 10000000",
        ),
        ("advanced-comparison-operators", "insee IN ('59512')"),
        ("basic-spatial-functions", "S_INTERSECTS(geom, POINT(3.18 50.69))"),
    ],
)
def test_declared_cql2_classes_work(live_url: str, conformance: str, cql: str) -> None:
    classes = httpx.get(f"{live_url}/ogc/conformance", timeout=30).json()["conformsTo"]
    assert f"http://www.opengis.net/spec/cql2/1.0/conf/{conformance}" in classes
    resp = httpx.get(
        f"{live_url}/ogc/collections/communes/items", params={"filter": cql}, timeout=30
    )
    assert resp.status_code == 200, resp.text
    assert "59512" in [f["id"] for f in resp.json()["features"]]
