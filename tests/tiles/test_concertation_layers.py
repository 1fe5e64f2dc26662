"""Contributions and reference features of the demo concertations, as tiles and heatmaps."""

from __future__ import annotations

import io

import mapbox_vector_tile
import numpy as np
from morecantile import Tile
from PIL import Image
from sqlalchemy import text

from carto.tiles import sql as tile_sql
from carto.tiles.cache import cached_tiles
from carto.tiles.grid import mercator_tms, tiles_touching

LAYER = "contributions"


def rgba(content: bytes) -> np.ndarray:
    """A heatmap PNG (palette + transparency) as the RGBA pixels a client draws."""
    return np.asarray(Image.open(io.BytesIO(content)).convert("RGBA"))


async def a_contribution(session) -> tuple[int, float, float]:
    row = (
        await session.execute(
            text(
                """SELECT id, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM public_layers.contributions
                   WHERE concertation = 'plu-de-la-mel' AND GeometryType(geom) = 'POINT'
                   ORDER BY id LIMIT 1"""
            )
        )
    ).one()
    return row.id, row.lon, row.lat


async def test_contribution_tile_equals_the_view_bbox_query(tclient, session):
    _, lon, lat = await a_contribution(session)
    tile = mercator_tms().tile(lon, lat, 12)
    resp = await tclient.get(f"/tiles/{LAYER}/12/{tile.x}/{tile.y}.mvt")
    assert resp.status_code == 200
    features = mapbox_vector_tile.decode(resp.content)[LAYER]["features"]
    got = {f["properties"]["id"] for f in features}
    params = {"z": 12, "x": tile.x, "y": tile.y}
    bbox = """SELECT id FROM public_layers.contributions
              WHERE geom_3857 && ST_TileEnvelope(:z, :x, :y, margin => :m)"""
    inside = set((await session.execute(text(bbox), params | {"m": 0.0})).scalars())
    buffered = set((await session.execute(text(bbox), params | {"m": tile_sql.MARGIN})).scalars())
    assert inside and inside <= got <= buffered
    props = features[0]["properties"]
    assert {"concertation", "theme", "kind", "votes_for", "votes_against"} <= set(props)
    assert not {"body", "title", "author", "email"} & set(props)  # small, no personal data


async def test_a_vote_invalidates_the_contribution_tiles(tclient, session):
    cid, lon, lat = await a_contribution(session)
    # Served apps of earlier tests (tests/security, tests/layers) commit their tiles to the
    # shared cache: start this test's count from an empty cache (rolled back afterwards).
    await session.execute(text("DELETE FROM tiles.tile_cache WHERE layer = :l"), {"l": LAYER})
    zooms = range(10, 17)
    for z in zooms:
        t = mercator_tms().tile(lon, lat, z)
        await tclient.get(f"/tiles/{LAYER}/{z}/{t.x}/{t.y}.mvt")
    before = await cached_tiles(session=session, layer=LAYER)
    assert len(before) == len(zooms)
    await session.execute(
        text("INSERT INTO contribution_vote (contribution_id, value, flags) VALUES (:c, 1, '{}')"),
        {"c": cid},
    )
    after = await cached_tiles(session=session, layer=LAYER)
    assert after == before - set(tiles_touching(lon, lat, range(0, 19)))
    assert not after


async def test_contribution_heatmap_per_theme(tclient, session):
    _, lon, lat = await a_contribution(session)
    t = mercator_tms().tile(lon, lat, 10)
    url = f"/tiles/heatmap/{LAYER}/10/{t.x}/{t.y}.png"
    full = rgba((await tclient.get(url)).content)
    themed = await tclient.get(url, params={"concertation": "plu-de-la-mel", "theme": "nature"})
    theme = rgba(themed.content)
    lyon = await tclient.get(url, params={"concertation": "planter-un-arbre-a-lyon"})
    assert (full[..., 3] > 0).sum() > (theme[..., 3] > 0).sum() > 0
    assert (rgba(lyon.content)[..., 3] == 0).all()
    votes = await tclient.get(url, params={"weight": "votes"})
    assert votes.status_code == 200


async def test_reference_features_filtered_by_concertation(tclient, session):
    row = (
        await session.execute(
            text(
                """SELECT ST_X(ST_PointOnSurface(geom)) AS lon, ST_Y(ST_PointOnSurface(geom)) AS lat
                   FROM public_layers.reference_features WHERE layer = 'arbres-existants' LIMIT 1"""
            )
        )
    ).one()
    t = mercator_tms().tile(row.lon, row.lat, 14)
    url = f"/tiles/reference_features/14/{t.x}/{t.y}.mvt"
    resp = await tclient.get(url, params={"concertation": "planter-un-arbre-a-lyon"})
    features = mapbox_vector_tile.decode(resp.content)["reference_features"]["features"]
    assert {f["properties"]["layer"] for f in features} >= {"arbres-existants"}
    assert {f["properties"]["concertation"] for f in features} == {"planter-un-arbre-a-lyon"}
    other = await tclient.get(url, params={"concertation": "plu-de-la-mel"})
    assert other.status_code == 204


async def reference_tile(tclient, session, layer: str, z: int) -> tuple[Tile, str]:
    row = (
        await session.execute(
            text(
                """SELECT ST_X(ST_PointOnSurface(geom)) AS lon, ST_Y(ST_PointOnSurface(geom)) AS lat
                   FROM public_layers.reference_features WHERE layer = :l LIMIT 1"""
            ),
            {"l": layer},
        )
    ).one()
    return mercator_tms().tile(row.lon, row.lat, z), f"/tiles/reference_features/{z}"


def colours(content: bytes, layer: str) -> set[str]:
    features = mapbox_vector_tile.decode(content)["reference_features"]["features"]
    return {f["properties"]["layer_color"] for f in features if f["properties"]["layer"] == layer}


async def test_restyling_a_reference_layer_refreshes_its_tiles(tclient, session):
    layer = "arbres-existants"
    tiles = {}
    for z in (10, 14):
        t, base = await reference_tile(tclient, session, layer, z)
        tiles[t] = f"{base}/{t.x}/{t.y}.mvt"
        first = await tclient.get(tiles[t])
        assert first.headers["x-tile-source"] == "polygons"
        assert colours(first.content, layer) and "#123abc" not in colours(first.content, layer)
        assert (await tclient.get(tiles[t])).headers["x-tile-source"] == "cache"
    # a change the tiles do not show (the description) leaves the cache alone
    await session.execute(
        text("UPDATE reference_layer SET description = 'autre' WHERE slug = :l"), {"l": layer}
    )
    assert set(tiles) <= await cached_tiles(session=session, layer="reference_features")
    await session.execute(
        text("UPDATE reference_layer SET color = '#123abc' WHERE slug = :l"), {"l": layer}
    )
    assert not set(tiles) & await cached_tiles(session=session, layer="reference_features")
    for url in tiles.values():
        again = await tclient.get(url)
        assert again.headers["x-tile-source"] == "polygons"  # rendered anew, not the cache
        assert colours(again.content, layer) == {"#123abc"}
