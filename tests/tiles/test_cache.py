"""The shared tile cache: hits, and writes invalidating exactly the tiles that show them."""

from __future__ import annotations

import psycopg
import pytest
from morecantile import Tile
from sqlalchemy import text

from carto.tiles.cache import cached_tiles, invalidate_point, prune_cache
from carto.tiles.grid import mercator_tms, tiles_touching
from tests.tiles.conftest import LAYER, add_points

# Close to a z12 tile corner, so that the point falls in the buffer of several tiles.
CORNER = mercator_tms().ul(Tile(2082, 1378, 12))
POINT = (CORNER.x + 0.00002, CORNER.y - 0.00002)
ZOOMS = range(0, 19)


def neighbourhood(lon: float, lat: float) -> set[Tile]:
    """The 5x5 tiles around the point at every zoom: more than it touches."""
    tms = mercator_tms()
    tiles = set()
    for z in ZOOMS:
        centre = tms.tile(lon, lat, z)
        for dx in range(-2, 3):
            for dy in range(-2, 3):
                x, y = centre.x + dx, centre.y + dy
                if 0 <= x < 2**z and 0 <= y < 2**z:
                    tiles.add(Tile(x, y, z))
    return tiles


async def prime(tclient, tiles: set[Tile]) -> None:
    for t in tiles:
        resp = await tclient.get(f"/tiles/{LAYER}/{t.z}/{t.x}/{t.y}.mvt")
        assert resp.status_code in (200, 204)


async def test_second_request_is_a_cache_hit(tclient, session):
    await add_points(session, [{"lon": POINT[0] + 0.01, "lat": POINT[1] - 0.01}])
    t = mercator_tms().tile(POINT[0] + 0.01, POINT[1] - 0.01, 15)
    first = await tclient.get(f"/tiles/{LAYER}/15/{t.x}/{t.y}.mvt")
    second = await tclient.get(f"/tiles/{LAYER}/15/{t.x}/{t.y}.mvt")
    assert first.headers["x-tile-source"] == "features"
    assert second.headers["x-tile-source"] == "cache"
    assert second.content == first.content and second.headers["etag"] == first.headers["etag"]
    other = await tclient.get(f"/tiles/{LAYER}/15/{t.x}/{t.y}.mvt", params={"state": "new"})
    assert other.headers["x-tile-source"] == "features"  # a filter is its own variant


async def test_insert_invalidates_exactly_the_touched_tiles(tclient, session):
    around = neighbourhood(*POINT)
    await prime(tclient, around)
    assert await cached_tiles(session=session, layer=LAYER) == around
    touched = set(tiles_touching(*POINT, ZOOMS))
    assert len(touched) > len(ZOOMS)  # near a corner: several tiles per zoom
    await add_points(session, [{"lon": POINT[0], "lat": POINT[1]}])
    assert await cached_tiles(session=session, layer=LAYER) == around - touched
    # and the re-rendered tiles show the new point
    t = mercator_tms().tile(*POINT, 16)
    resp = await tclient.get(f"/tiles/{LAYER}/16/{t.x}/{t.y}.mvt")
    assert resp.status_code == 200 and resp.headers["x-tile-source"] == "features"


async def test_move_and_delete_invalidate_old_and_new_places(tclient, session):
    far = (POINT[0] + 0.3, POINT[1] - 0.2)
    [pid] = await add_points(session, [{"lon": POINT[0], "lat": POINT[1]}])
    around = neighbourhood(*POINT) | neighbourhood(*far)
    await prime(tclient, around)
    await session.execute(
        text(
            "UPDATE tiles_test.point SET geom = ST_SetSRID(ST_MakePoint(:x, :y), 4326) "
            "WHERE id = :id"
        ),
        {"x": far[0], "y": far[1], "id": pid},
    )
    touched = set(tiles_touching(*POINT, ZOOMS)) | set(tiles_touching(*far, ZOOMS))
    assert await cached_tiles(session=session, layer=LAYER) == around - touched
    await prime(tclient, around)
    await session.execute(text("DELETE FROM tiles_test.point WHERE id = :id"), {"id": pid})
    assert await cached_tiles(session=session, layer=LAYER) == around - set(
        tiles_touching(*far, ZOOMS)
    )


async def test_property_change_invalidates_too(tclient, session):
    [pid] = await add_points(session, [{"lon": POINT[0], "lat": POINT[1]}])
    t = mercator_tms().tile(*POINT, 17)
    url = f"/tiles/{LAYER}/17/{t.x}/{t.y}.mvt"
    await tclient.get(url)
    await session.execute(
        text("UPDATE tiles_test.point SET state = 'resolved' WHERE id = :id"), {"id": pid}
    )
    resp = await tclient.get(url)
    assert resp.headers["x-tile-source"] == "features"


async def test_python_invalidate_point_matches_tiles_touching(tclient, session):
    around = neighbourhood(*POINT)
    await prime(tclient, around)
    deleted = await invalidate_point(session=session, layer=LAYER, lon=POINT[0], lat=POINT[1])
    touched = set(tiles_touching(*POINT, ZOOMS))
    assert deleted == len(touched)
    assert await cached_tiles(session=session, layer=LAYER) == around - touched


def test_a_tile_rendered_before_a_write_is_not_stored_after_it(demo_db, test_layer):
    """The race: render with a snapshot, a write commits, then the render would be stored.

    Only the tiles the write touches are refused; a far tile rendered with the same
    snapshot is still good and is stored."""
    t = mercator_tms().tile(*POINT, 15)
    put = f"SELECT tiles.cache_put(%s, 15, {t.x}, {t.y}, '', '\\x00', 'e', %s::pg_snapshot)"
    far = "SELECT tiles.cache_put(%s, 15, 1, 1, '', '\\x00', 'e', %s::pg_snapshot)"
    with (
        psycopg.connect(demo_db, autocommit=True) as reader,
        psycopg.connect(demo_db, autocommit=True) as writer,
    ):
        snapshot = reader.execute("SELECT pg_current_snapshot()::text").fetchone()[0]
        pid = writer.execute(
            "INSERT INTO tiles_test.point (service_code, state, geom) VALUES "
            "('voirie', 'new', ST_SetSRID(ST_MakePoint(%s, %s), 4326)) RETURNING id",
            POINT,
        ).fetchone()[0]
        try:
            assert reader.execute(put, (LAYER, snapshot)).fetchone()[0] is False
            assert reader.execute(far, (LAYER, snapshot)).fetchone()[0] is True
            fresh = reader.execute("SELECT pg_current_snapshot()::text").fetchone()[0]
            assert reader.execute(put, (LAYER, fresh)).fetchone()[0] is True
        finally:
            writer.execute("DELETE FROM tiles_test.point WHERE id = %s", (pid,))
            writer.execute("DELETE FROM tiles.tile_cache WHERE layer = %s", (LAYER,))


async def test_prune_keeps_the_newest(tclient, session):
    await prime(tclient, {Tile(0, 0, 1), Tile(1, 0, 1), Tile(0, 1, 1)})
    await session.execute(text("DELETE FROM tiles.tile_cache WHERE layer <> :l"), {"l": LAYER})
    dropped = await prune_cache(session=session, keep=1)
    assert dropped == 2
    assert len(await cached_tiles(session=session, layer=LAYER)) == 1


@pytest.mark.parametrize("zoom", [0, 7, 14, 18])
def test_tiles_touching_contains_the_tile_of_the_point(zoom):
    tiles = tiles_touching(*POINT, [zoom])
    assert mercator_tms().tile(*POINT, zoom) in tiles
    assert all(t.z == zoom for t in tiles) and 1 <= len(tiles) <= 4


async def test_territory_edit_refreshes_bands_and_cache(tclient, session):
    lille = mercator_tms().tile(3.0573, 50.6292, 12)
    far = mercator_tms().tile(4.8357, 45.7640, 12)  # Lyon
    for t in (lille, far):
        await tclient.get(f"/tiles/communes/12/{t.x}/{t.y}.mvt")
    assert await cached_tiles(session=session, layer="communes") == {lille, far}
    await session.execute(
        text(
            "UPDATE commune SET nom = 'Lille-Test', geom = ST_Multi(ST_Buffer(geom, 0.001)) "
            "WHERE insee = '59350'"
        )
    )
    assert await cached_tiles(session=session, layer="communes") == {far}
    props = (
        (
            await session.execute(
                text("SELECT DISTINCT props ->> 'nom' FROM tiles.polygon_geom WHERE id = '59350'")
            )
        )
        .scalars()
        .all()
    )
    assert props == ["Lille-Test"]
