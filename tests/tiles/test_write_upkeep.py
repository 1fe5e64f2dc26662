"""What a point write leaves for the tile side (carto/tiles/sql/points.sql): one pending heat delta
per changed point, tiles invalidated even when only a property changed, and a trigger
compiled from the layer's row."""

from __future__ import annotations

from sqlalchemy import text

from carto.tiles.grid import mercator_tms
from tests.tiles.conftest import LAYER, add_points

LILLE = (3.0573, 50.6292)
PENDING = text("SELECT n, w, dim_a, dim_b FROM tiles.heat_delta WHERE layer = :l ORDER BY ctid")


async def pending(session) -> list[tuple]:
    return [tuple(r) for r in (await session.execute(PENDING, {"l": LAYER})).all()]


async def test_each_change_appends_what_it_changes_and_no_more(session, test_layer):
    await session.execute(text("SELECT tiles.fold_heat(interval '0')"))
    assert await pending(session) == []
    [pid] = await add_points(session, [{"lon": LILLE[0], "lat": LILLE[1], "supports": 2}])
    assert await pending(session) == [(1, 2.0, "voirie", "new")]

    update = "UPDATE tiles_test.point SET {} WHERE id = :id"
    await session.execute(text(update.format("supports = 5")), {"id": pid})
    assert (await pending(session))[1:] == [(0, 3.0, "voirie", "new")]  # weight only

    await session.execute(text(update.format("state = 'resolved'")), {"id": pid})
    assert (await pending(session))[2:] == [(-1, -5.0, "voirie", "new"),
                                           (1, 5.0, "voirie", "resolved")]  # fmt: skip

    await session.execute(text(update.format("created_at = now() - interval '1 day'")),
                          {"id": pid})  # fmt: skip
    assert len(await pending(session)) == 4  # nothing the heat grid counts changed

    await session.execute(text("DELETE FROM tiles_test.point WHERE id = :id"), {"id": pid})
    assert (await pending(session))[4:] == [(-1, -5.0, "voirie", "resolved")]
    cells = await session.scalar(
        text("SELECT sum(n) FROM tiles.heat_cells WHERE layer = :l AND level = 12"),
        {"l": LAYER},
    )
    assert cells == 0


async def test_a_property_change_still_drops_the_cached_tile(session, test_layer):
    [pid] = await add_points(session, [{"lon": LILLE[0], "lat": LILLE[1]}])
    tile = mercator_tms().tile(*LILLE, 15)
    await session.execute(
        text("""INSERT INTO tiles.tile_cache (layer, z, x, y, variant, body, etag)
                VALUES (:l, 15, :x, :y, '', '\\x00', 'e')"""),
        {"l": LAYER, "x": tile.x, "y": tile.y},
    )
    await session.execute(
        text("UPDATE tiles_test.point SET created_at = now() - interval '1 day' WHERE id = :id"),
        {"id": pid},
    )
    left = await session.scalar(
        text("SELECT count(*) FROM tiles.tile_cache WHERE layer = :l"), {"l": LAYER}
    )
    assert left == 0


async def test_the_trigger_follows_the_layer_row_once_recompiled(session, test_layer):
    await session.execute(
        text("UPDATE tiles.point_layer SET dim_b = 'service_code' WHERE layer = :l"),
        {"l": LAYER},
    )
    await add_points(session, [{"lon": LILLE[0], "lat": LILLE[1], "service_code": "eclairage"}])
    assert (await pending(session))[-1][3] == "new"  # compiled with the old dims
    await session.execute(text("SELECT tiles.compile_point_layer(:l)"), {"l": LAYER})
    await add_points(session, [{"lon": LILLE[0], "lat": LILLE[1], "service_code": "eclairage"}])
    assert (await pending(session))[-1][3] == "eclairage"
