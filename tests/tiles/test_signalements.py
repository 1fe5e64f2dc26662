"""Signalements tiles on the demo: a tile holds exactly what the OGC items query returns
for its bounds (the buffer aside), and a transition refreshes the cached tiles."""

from __future__ import annotations

import httpx
import mapbox_vector_tile
import pytest
from sqlalchemy import text

from carto.tiles import sql, stored
from carto.tiles.cache import cached_tiles
from carto.tiles.grid import mercator_tms, tiles_touching
from carto.tiles.sql import MARGIN
from tests.layers.conftest import live_url  # noqa: F401  (the OGC API needs a real server)

LAYER = "signalements"


def ogc_ids(base: str, bounds: tuple[float, float, float, float]) -> set[int]:
    ids: set[int] = set()
    url: str | None = f"{base}/ogc/collections/signalements/items"
    params: dict[str, str] | None = {"bbox": ",".join(f"{v:.9f}" for v in bounds), "limit": "500"}
    while url:
        page = httpx.get(url, params=params, timeout=30).json()
        ids |= {int(f["id"]) for f in page["features"]}
        url = next((lk["href"] for lk in page.get("links", []) if lk["rel"] == "next"), None)
        params = None
    return ids


async def busiest_tile(session, z: int):
    row = (
        await session.execute(
            text(
                """SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat FROM public_layers.signalements
                   ORDER BY id LIMIT 1"""
            )
        )
    ).one()
    return mercator_tms().tile(row.lon, row.lat, z)


@pytest.mark.parametrize("encoder", ["ST_AsMVT", "numba"])
async def test_tile_equals_ogc_items_for_its_bounds(
    tclient,
    session,
    live_url,  # noqa: F811
    monkeypatch,
    encoder: str,
):
    """Both encoders of the stored point path: small tiles go to ST_AsMVT unless
    SMALL_TILE is lowered, so the demo's tile reaches the numba encoder too."""
    encoded: list[int] = []
    if encoder == "numba":
        monkeypatch.setattr(sql, "SMALL_TILE", 0)
        real = stored.encode_rows

        def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
            encoded.append(1)
            return real(*args, **kwargs)

        monkeypatch.setattr(stored, "encode_rows", counted)
    tile = await busiest_tile(session, 13)
    # Served apps of earlier tests commit tiles to the shared cache: render this one.
    await session.execute(text("DELETE FROM tiles.tile_cache WHERE layer = :l"), {"l": LAYER})
    resp = await tclient.get(f"/tiles/{LAYER}/13/{tile.x}/{tile.y}.mvt")
    assert resp.status_code == 200
    assert resp.headers["X-Tile-Source"] == "features"  # rendered, not from the cache
    assert len(encoded) == (encoder == "numba")
    features = mapbox_vector_tile.decode(resp.content)[LAYER]["features"]
    got = {f["properties"]["id"] for f in features}
    tms = mercator_tms()
    exact = tms.bounds(tile)
    xy = tms.xy_bounds(tile)
    m = (xy.right - xy.left) * MARGIN
    west, south = tms.lnglat(xy.left - m, xy.bottom - m)
    east, north = tms.lnglat(xy.right + m, xy.top + m)
    inside = ogc_ids(live_url, (exact.left, exact.bottom, exact.right, exact.top))
    buffered = ogc_ids(live_url, (west, south, east, north))
    assert inside, "the demo should have signalements in this tile"
    assert inside <= got <= buffered
    props = features[0]["properties"]
    assert set(props) == {"id", "service_code", "state", "supports"}


async def test_a_state_change_invalidates_the_tiles_that_show_it(tclient, session):
    row = (
        await session.execute(
            text("SELECT id, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM signalement LIMIT 1")
        )
    ).one()
    # Served apps of earlier tests (tests/security, tests/layers) commit their tiles to the
    # shared cache: start this test's count from an empty cache (rolled back afterwards).
    await session.execute(text("DELETE FROM tiles.tile_cache WHERE layer = :l"), {"l": LAYER})
    for z in (8, 12, 15):
        t = mercator_tms().tile(row.lon, row.lat, z)
        await tclient.get(f"/tiles/{LAYER}/{z}/{t.x}/{t.y}.mvt")
    assert len(await cached_tiles(session=session, layer=LAYER)) == 3
    await session.execute(
        text("UPDATE signalement SET state = 'in_progress' WHERE id = :id"), {"id": row.id}
    )
    left = await cached_tiles(session=session, layer=LAYER)
    assert not left & set(tiles_touching(row.lon, row.lat, range(19)))
    assert not left


async def test_signalements_heatmap_by_category(tclient, session):
    tile = await busiest_tile(session, 10)
    url = f"/tiles/heatmap/{LAYER}/10/{tile.x}/{tile.y}.png"
    for params in ({}, {"service_code": "voirie"}, {"state": "resolved,in_progress"}):
        resp = await tclient.get(url, params=params)
        assert resp.status_code == 200 and resp.headers["content-type"] == "image/png"
    assert (await tclient.get(url, params={"weight": "supports"})).status_code == 200


def test_served_app_uses_its_own_pool(live_url):  # noqa: F811
    """Through uvicorn the routes run on the tiles' asyncpg pool ($n parameters, autocommit)."""
    tile = mercator_tms().tile(3.0573, 50.6292, 10)
    with httpx.Client(base_url=live_url, timeout=30) as client:
        communes = client.get(f"/tiles/communes/10/{tile.x}/{tile.y}.mvt")
        assert communes.status_code == 200
        names = {
            f["properties"]["nom"]
            for f in mapbox_vector_tile.decode(communes.content)["communes"]["features"]
        }
        assert "Lille" in names
        filtered = client.get(
            f"/tiles/{LAYER}/10/{tile.x}/{tile.y}.mvt", params={"state": "resolved,new"}
        )
        assert filtered.status_code in (200, 204)
        heat = client.get(
            f"/tiles/heatmap/{LAYER}/10/{tile.x}/{tile.y}.png", params={"weight": "supports"}
        )
        assert heat.status_code == 200 and heat.headers["content-type"] == "image/png"
        hexes = client.get(f"/tiles/hexagons/{LAYER}.geojson", params={"resolution": 6})
        assert hexes.status_code == 200 and hexes.json()["type"] == "FeatureCollection"
        assert client.get(f"/tiles/{LAYER}.json").json()["tilejson"] == "3.0.0"
        assert client.get(f"/tiles/{LAYER}/40/0/0.mvt").status_code == 404
