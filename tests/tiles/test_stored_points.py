"""Stored point tiles (tiles.heat_point + the numpy encoder) against ST_AsMVT.

Both are decoded and compared feature by feature: positions, properties, and
which points the buffer keeps. The encoder is also checked on its own against
ST_AsMVT for values the layers do not produce yet (negative and 64-bit integers,
accents, a missing property).
"""

from __future__ import annotations

import dataclasses
import random

import mapbox_vector_tile
import numpy as np
import pytest
from sqlalchemy import text

from carto.tiles import sql as tile_sql
from carto.tiles.db import SessionTileDB
from carto.tiles.filters import TileFilters
from carto.tiles.grid import TileRequest, mercator_tms
from carto.tiles.layers import POINT_LAYERS
from carto.tiles.point_encoder import IntProperty, TextProperty, _put, _share, encode_points
from carto.tiles.service import render_tile
from carto.tiles.stored import stored_columns
from tests.tiles.conftest import LAYER, add_points

LILLE = (3.0573, 50.6292)


def features(body: bytes) -> list[tuple]:
    """The tile's features as sorted, comparable tuples (position, properties)."""
    if not body:
        return []
    layer = mapbox_vector_tile.decode(body, default_options={"y_coord_down": True})[LAYER]
    assert layer["extent"] == 4096
    return sorted(
        (tuple(f["geometry"]["coordinates"]), tuple(sorted(f["properties"].items())))
        for f in layer["features"]
    )


def around(tile: TileRequest, n: int, seed: int) -> list[dict]:
    """Points over the tile and 10 % around it: the buffer and beyond, on every side."""
    bounds = mercator_tms().bounds(tile.x, tile.y, tile.z)
    dx, dy = bounds.right - bounds.left, bounds.top - bounds.bottom
    rnd = random.Random(seed)
    return [
        {
            "lon": rnd.uniform(bounds.left - 0.1 * dx, bounds.right + 0.1 * dx),
            "lat": rnd.uniform(bounds.bottom - 0.1 * dy, bounds.top + 0.1 * dy),
            "service_code": rnd.choice(["voirie", "eclairage", "proprete", "espaces-verts"]),
            "state": rnd.choice(["new", "acknowledged", "résolu"]),
            "supports": rnd.choice([0, 1, 7, 127, 128, 300, 20_000]),
        }
        for _ in range(n)
    ]


async def both(session, layer, tile: TileRequest, flt: TileFilters) -> tuple[bytes, bytes]:
    db = SessionTileDB(session)
    stored, _, mode = await render_tile(db, layer, tile, flt)
    assert mode == "features"
    reference, _, _ = await render_tile(
        db, dataclasses.replace(layer, stored_points=False), tile, flt
    )
    return stored, reference


@pytest.mark.parametrize("z", [12, 14, 16, 18])
async def test_stored_tile_decodes_to_the_st_asmvt_tile(session, test_layer, z):
    tile = TileRequest(z, *mercator_tms().tile(*LILLE, z)[:2])
    await add_points(session, around(tile, 400, seed=z))
    stored, reference = await both(session, test_layer, tile, TileFilters())
    got, expected = features(stored), features(reference)
    assert len(expected) > 250
    assert any(not (0 <= x <= 4096 and 0 <= y <= 4096) for (x, y), _ in expected)  # the buffer
    assert same_features(got, expected)


def same_features(got: list[tuple], expected: list[tuple]) -> bool:
    """Equal, but for points on the buffer's outermost pixel that only the stored tile has:
    the view's `&&` filter cuts at the exact buffer edge, ST_AsMVTGeom after rounding
    (up to half a pixel further)."""

    def edge(feature: tuple) -> bool:
        return any(c in (-64, 4096 + 64) for c in feature[0])

    extra = [f for f in got if f not in expected]
    return all(edge(f) for f in extra) and [f for f in got if f not in extra] == expected


async def test_small_stored_tile_is_encoded_by_postgis_alike(session, test_layer, monkeypatch):
    """Up to SMALL_TILE points the statement encodes the tile itself (ST_AsMVT): the
    same features, whichever side encodes."""
    tile = TileRequest(15, *mercator_tms().tile(*LILLE, 15)[:2])
    await add_points(session, around(tile, 40, seed=11))
    small, reference = await both(session, test_layer, tile, TileFilters())
    monkeypatch.setattr(tile_sql, "SMALL_TILE", 0)  # now the numpy encoder
    encoded, _ = await both(session, test_layer, tile, TileFilters())
    assert 20 < len(features(reference)) <= tile_sql.MAX_POINTS_PER_TILE
    assert same_features(features(small), features(reference))
    assert same_features(features(encoded), features(reference))
    assert small != encoded  # two encoders did run (value order differs)


async def test_stored_tile_applies_the_dimension_filters(session, test_layer):
    tile = TileRequest(15, *mercator_tms().tile(*LILLE, 15)[:2])
    await add_points(session, around(tile, 300, seed=3))
    flt = TileFilters({"service_code": ("voirie", "proprete"), "state": ("new",)})
    stored, reference = await both(session, test_layer, tile, flt)
    got = features(stored)
    assert same_features(got, features(reference))
    assert 0 < len(got) < 300
    assert {dict(props)["state"] for _, props in got} == {"new"}


async def test_written_and_deleted_points_show_at_once(session, test_layer):
    tile = TileRequest(16, *mercator_tms().tile(*LILLE, 16)[:2])
    centre = mercator_tms().bounds(tile.x, tile.y, tile.z)
    lon, lat = (centre.left + centre.right) / 2, (centre.bottom + centre.top) / 2
    kept, changed, deleted = await add_points(
        session,
        [
            {"lon": lon, "lat": lat},
            {"lon": lon + 1e-4, "lat": lat},
            {"lon": lon, "lat": lat + 1e-4},
        ],
    )
    await session.execute(
        text("UPDATE tiles_test.point SET state = 'resolved' WHERE id = :i"), {"i": changed}
    )
    await session.execute(text("DELETE FROM tiles_test.point WHERE id = :i"), {"i": deleted})
    stored, reference = await both(session, test_layer, tile, TileFilters())
    assert features(stored) == features(reference)
    states = {dict(props)["id"]: dict(props)["state"] for _, props in features(stored)}
    assert states == {kept: "new", changed: "resolved"}


async def test_crowded_stored_tile_falls_back_to_clusters(session, test_layer, monkeypatch):
    monkeypatch.setattr(tile_sql, "MAX_POINTS_PER_TILE", 40)
    tile = TileRequest(15, *mercator_tms().tile(*LILLE, 15)[:2])
    await add_points(session, around(tile, 100, seed=5))
    _, _, mode = await render_tile(SessionTileDB(session), test_layer, tile, TileFilters())
    assert mode == "clusters"


async def test_encoder_matches_st_asmvt_on_every_value_kind(session):
    """Ids past 2^32, negative and large integers, accents, a missing text value."""
    rows = [
        (1, 2**40 + 3, "voirie", -5, 3.0601, 50.6301),
        (2, 7, None, 0, 3.0602, 50.6302),
        (3, 300, "éclairage public", 2**31 - 1, 3.0603, 50.6299),
        (4, 12, "voirie", -(2**40), 3.0599, 50.6298),
    ]
    tile = TileRequest(14, *mercator_tms().tile(3.0601, 50.6300, 14)[:2])
    values = ", ".join(
        f"({fid}, {fid_big}::bigint, {'NULL' if code is None else repr(code)}::text, {n}::bigint,"
        f" ST_Transform(ST_SetSRID(ST_MakePoint({lon}, {lat}), 4326), 3857))"
        for fid, fid_big, code, n, lon, lat in rows
    )
    result = await session.execute(
        text(
            f"""WITH p(k, id, code, n, g) AS (VALUES {values}),
                     e AS (SELECT ST_TileEnvelope(:z, :x, :y) AS b)
                SELECT (SELECT ST_AsMVT(q.*, '{LAYER}', 4096, 'geom')
                        FROM (SELECT p.id, p.code, p.n,
                                     ST_AsMVTGeom(p.g, e.b, 4096, 64, true) AS geom
                              FROM p, e) q) AS mvt,
                       (SELECT array_agg(ST_X(g) ORDER BY k) FROM p) AS xs,
                       (SELECT array_agg(ST_Y(g) ORDER BY k) FROM p) AS ys,
                       ST_XMin(b) AS x0, ST_YMin(b) AS y0, ST_XMax(b) AS x1, ST_YMax(b) AS y1
                FROM e"""
        ),
        {"z": tile.z, "x": tile.x, "y": tile.y},
    )
    row = result.one()
    labels = [r[2] for r in rows]
    ours = encode_points(
        LAYER,
        np.array(row.xs),
        np.array(row.ys),
        [
            IntProperty("id", np.array([r[1] for r in rows])),
            TextProperty("code", np.arange(len(rows)), labels),
            IntProperty("n", np.array([r[3] for r in rows])),
        ],
        (row.x0, row.y0, row.x1, row.y1),
    )
    assert features(ours) == features(bytes(row.mvt))
    assert len(features(ours)) == len(rows)


def test_varints_match_the_protobuf_encoding():
    out = np.zeros(16, dtype=np.uint8)
    end = 0
    for value in (0, 1, 127, 128, 300, 2**35 + 1):
        end = _put(out, end, value)
    assert out[:end].tobytes() == bytes(
        [0, 1, 127, 0x80, 0x01, 0xAC, 0x02, 0x81, 0x80, 0x80, 0x80, 0x80, 0x01]
    )


def test_values_are_shared_in_order_of_first_appearance():
    values = np.array([7, -3, 7, 2**40, -3, 0, 2**40], dtype=np.int64)
    table, rank = _share(values)
    assert table.tolist() == [7, -3, 2**40, 0]
    assert table[rank].tolist() == values.tolist()
    many = np.random.default_rng(1).integers(0, 500, 5000)  # collisions in the hash table
    table, rank = _share(many)
    assert sorted(table.tolist()) == sorted(set(many.tolist()))
    assert (table[rank] == many).all()


def test_stored_layers_map_every_property_to_heat_point():
    stored = [layer for layer in POINT_LAYERS if layer.stored_points]
    assert stored, "signalements tiles are served from tiles.heat_point"
    for layer in stored:
        assert set(stored_columns(layer)) == set(layer.properties) - {"count"}
