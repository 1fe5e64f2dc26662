"""MVT tiles: content equals an SQL bbox query; filters, clusters, bad addresses, headers."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import mapbox_vector_tile
import pytest
from sqlalchemy import text

from carto.tiles import sql as tile_sql
from carto.tiles.grid import mercator_tms
from tests.tiles.conftest import LAYER, add_points

MVT = "application/vnd.mapbox-vector-tile"
LILLE = (3.0573, 50.6292)


def decode(body: bytes) -> dict:
    return mapbox_vector_tile.decode(body)


def random_points(n: int, seed: int, *, spread: float = 0.02) -> list[dict]:
    rnd = random.Random(seed)
    codes = ["voirie", "eclairage", "proprete"]
    states = ["new", "acknowledged", "resolved"]
    return [
        {
            "lon": LILLE[0] + rnd.uniform(-spread, spread),
            "lat": LILLE[1] + rnd.uniform(-spread, spread),
            "service_code": rnd.choice(codes),
            "state": rnd.choice(states),
            "supports": rnd.randint(0, 5),
        }
        for _ in range(n)
    ]


async def ids_in(session, z: int, x: int, y: int, margin: float, where: str = "") -> set[int]:
    rows = await session.execute(
        text(
            f"""SELECT id FROM tiles_test.points
                WHERE geom_3857 && ST_TileEnvelope(:z, :x, :y, margin => :m) {where}"""
        ),
        {"z": z, "x": x, "y": y, "m": margin},
    )
    return {r.id for r in rows}


async def test_point_tile_has_exactly_the_bbox_points(tclient, session):
    await add_points(session, random_points(300, seed=1))
    tile = mercator_tms().tile(*LILLE, 14)
    resp = await tclient.get(f"/tiles/{LAYER}/14/{tile.x}/{tile.y}.mvt")
    assert resp.status_code == 200
    assert resp.headers["content-type"] == MVT
    assert resp.headers["x-tile-source"] == "features"
    layers = decode(resp.content)
    assert list(layers) == [LAYER]
    got = {f["properties"]["id"] for f in layers[LAYER]["features"]}
    inside = await ids_in(session, 14, tile.x, tile.y, 0.0)
    buffered = await ids_in(session, 14, tile.x, tile.y, tile_sql.MARGIN)
    assert inside, "the tile should hold points"
    assert inside <= got <= buffered
    feature = layers[LAYER]["features"][0]
    assert set(feature["properties"]) == {"id", "service_code", "state", "supports"}
    assert feature["geometry"]["type"] == "Point"


async def test_filters_are_applied(tclient, session):
    await add_points(session, random_points(200, seed=2))
    tile = mercator_tms().tile(*LILLE, 13)
    url = f"/tiles/{LAYER}/13/{tile.x}/{tile.y}.mvt"
    resp = await tclient.get(url, params={"service_code": "eclairage", "state": "new,resolved"})
    got = {f["properties"]["id"] for f in decode(resp.content)[LAYER]["features"]}
    expected = await ids_in(
        session,
        13,
        tile.x,
        tile.y,
        tile_sql.MARGIN,
        "AND service_code = 'eclairage' AND state IN ('new', 'resolved')",
    )
    assert got == expected and got
    props = [f["properties"] for f in decode(resp.content)[LAYER]["features"]]
    assert {p["service_code"] for p in props} == {"eclairage"}
    none = await tclient.get(url, params={"service_code": "inconnu"})
    assert none.status_code == 204 and none.content == b""


async def test_date_range_filter(tclient, session):
    old = await add_points(
        session,
        [{"lon": LILLE[0], "lat": LILLE[1], "created_at": datetime(2020, 1, 5, 10, tzinfo=UTC)}],
    )
    new = await add_points(
        session,
        [
            {
                "lon": LILLE[0] + 0.001,
                "lat": LILLE[1],
                "created_at": datetime(2024, 6, 1, 10, tzinfo=UTC),
            }
        ],
    )
    tile = mercator_tms().tile(*LILLE, 15)
    url = f"/tiles/{LAYER}/15/{tile.x}/{tile.y}.mvt"
    resp = await tclient.get(url, params={"from": "2024-01-01", "to": "2024-12-31"})
    assert {f["properties"]["id"] for f in decode(resp.content)[LAYER]["features"]} == set(new)
    resp = await tclient.get(url, params={"to": "2020-01-05"})
    assert {f["properties"]["id"] for f in decode(resp.content)[LAYER]["features"]} == set(old)
    bad = await tclient.get(url, params={"from": "hier"})
    assert bad.status_code == 422 and "date" in bad.json()["message"]


async def test_low_zoom_clusters_count_every_point(tclient, session):
    await add_points(session, random_points(150, seed=3, spread=0.2))
    tile = mercator_tms().tile(*LILLE, 8)
    resp = await tclient.get(f"/tiles/{LAYER}/8/{tile.x}/{tile.y}.mvt")
    assert resp.headers["x-tile-source"] == "clusters"
    features = decode(resp.content)[LAYER]["features"]
    expected = await ids_in(session, 8, tile.x, tile.y, 0.0)
    assert sum(f["properties"]["count"] for f in features) == len(expected) > 50
    assert len(features) <= 32 * 32
    filtered = await tclient.get(
        f"/tiles/{LAYER}/8/{tile.x}/{tile.y}.mvt", params={"service_code": "voirie"}
    )
    voirie = await ids_in(session, 8, tile.x, tile.y, 0.0, "AND service_code = 'voirie'")
    counts = [f["properties"]["count"] for f in decode(filtered.content)[LAYER]["features"]]
    assert sum(counts) == len(voirie) > 0
    dated = await tclient.get(
        f"/tiles/{LAYER}/8/{tile.x}/{tile.y}.mvt", params={"from": "2000-01-01"}
    )
    counts = [f["properties"]["count"] for f in decode(dated.content)[LAYER]["features"]]
    assert dated.headers["x-tile-source"] == "clusters"
    assert sum(counts) == len(expected)


async def test_crowded_tile_falls_back_to_clusters(tclient, session, monkeypatch):
    monkeypatch.setattr(tile_sql, "MAX_POINTS_PER_TILE", 40)
    await add_points(session, random_points(100, seed=4, spread=0.002))
    tile = mercator_tms().tile(*LILLE, 15)
    resp = await tclient.get(f"/tiles/{LAYER}/15/{tile.x}/{tile.y}.mvt")
    assert resp.headers["x-tile-source"] == "clusters"
    features = decode(resp.content)[LAYER]["features"]
    assert len(features) < 100
    expected = await ids_in(session, 15, tile.x, tile.y, 0.0)
    assert sum(f["properties"]["count"] for f in features) == len(expected)


async def test_communes_tile(tclient):
    tile = mercator_tms().tile(*LILLE, 10)
    resp = await tclient.get(f"/tiles/communes/10/{tile.x}/{tile.y}.mvt")
    assert resp.status_code == 200 and resp.headers["content-type"] == MVT
    layers = decode(resp.content)
    assert list(layers) == ["communes"]
    names = {f["properties"]["nom"] for f in layers["communes"]["features"]}
    assert "Lille" in names
    lille = next(f for f in layers["communes"]["features"] if f["properties"]["nom"] == "Lille")
    assert lille["properties"]["id"] == "59350"
    assert lille["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    low = await tclient.get("/tiles/intercommunalites/5/16/10.mvt")
    assert low.status_code == 200
    epci = {f["properties"]["nom"] for f in decode(low.content)["intercommunalites"]["features"]}
    assert any("Lille" in n for n in epci)


async def test_low_zoom_polygons_are_simplified(tclient, session):
    rows = await session.execute(
        text(
            """SELECT band, sum(ST_NPoints(geom_3857)) AS n FROM tiles.polygon_geom
               WHERE layer = 'intercommunalites' GROUP BY band ORDER BY band"""
        )
    )
    points = [r.n for r in rows]
    assert len(points) == 4
    assert points[0] < points[-1]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        (f"/tiles/{LAYER}/40/0/0.mvt", 404),
        ("/tiles/signalements/40/0/0.mvt", 404),
        (f"/tiles/{LAYER}/3/8/0.mvt", 404),
        (f"/tiles/{LAYER}/3/0/-1.mvt", 404),
        (f"/tiles/{LAYER}/25/0/0.mvt", 404),
        (f"/tiles/{LAYER}/a/0/0.mvt", 422),
        ("/tiles/nope/1/0/0.mvt", 404),
        (f"/tiles/{LAYER}/1/0/0.mvt?state=a%20b", 422),
        (f"/tiles/heatmap/{LAYER}/17/0/0.png", 404),
        ("/tiles/heatmap/communes/1/0/0.png", 404),
    ],
)
async def test_bad_addresses_are_4xx(tclient, path, status):
    resp = await tclient.get(path)
    assert resp.status_code == status, resp.text
    assert resp.json()["message"]


async def test_empty_tile_etag_and_not_modified(tclient, session):
    empty = await tclient.get(f"/tiles/{LAYER}/14/0/0.mvt")
    assert empty.status_code == 204
    await add_points(session, random_points(5, seed=5, spread=0.001))
    tile = mercator_tms().tile(*LILLE, 16)
    url = f"/tiles/{LAYER}/16/{tile.x}/{tile.y}.mvt"
    first = await tclient.get(url)
    etag = first.headers["etag"]
    assert "max-age" in first.headers["cache-control"]
    again = await tclient.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
