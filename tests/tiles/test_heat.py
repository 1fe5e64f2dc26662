"""Heatmaps: PNG shape, transparency, one colour scale per zoom, no seams, filters, the grid."""

from __future__ import annotations

import io

import numpy as np
from morecantile import Tile
from PIL import Image
from sqlalchemy import text

from carto.tiles import render
from carto.tiles.grid import mercator_tms
from tests.tiles.conftest import LAYER, add_points

Z = 11
LEFT = Tile(1041, 687, Z)  # around Lille
RIGHT = Tile(1042, 687, Z)


def png(resp) -> np.ndarray:
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(resp.content))
    assert image.size == (256, 256) and image.mode == "P" and "transparency" in image.info
    return np.asarray(image.convert("RGBA"))  # what a client draws


def cluster(tile: Tile, fx: float, fy: float, n: int, **extra) -> list[dict]:
    """`n` points at the same place, (fx, fy) being fractions of the tile's width/height."""
    bounds = mercator_tms().bounds(tile)
    lon = bounds.left + fx * (bounds.right - bounds.left)
    lat = bounds.top - fy * (bounds.top - bounds.bottom)
    return [{"lon": lon, "lat": lat, **extra} for _ in range(n)]


async def get_heat(tclient, tile: Tile, **params) -> np.ndarray:
    return png(
        await tclient.get(f"/tiles/heatmap/{LAYER}/{tile.z}/{tile.x}/{tile.y}.png", params=params)
    )


async def test_png_transparent_where_empty(tclient, session):
    await add_points(session, cluster(LEFT, 0.5, 0.5, 5))
    empty = await get_heat(tclient, Tile(0, 0, Z))
    assert (empty[..., 3] == 0).all()
    img = await get_heat(tclient, LEFT)
    assert img[128, 128, 3] > 0  # the cluster
    assert img[0, 0, 3] == 0 and img[255, 255, 3] == 0  # far from it: nothing


async def test_same_density_same_colour_in_adjacent_tiles(tclient, session):
    await add_points(session, cluster(LEFT, 0.5, 0.5, 7) + cluster(RIGHT, 0.5, 0.5, 7))
    await add_points(session, cluster(RIGHT, 0.2, 0.3, 2))  # more elsewhere in RIGHT
    left, right = await get_heat(tclient, LEFT), await get_heat(tclient, RIGHT)
    np.testing.assert_array_equal(left[100:156, 100:156], right[100:156, 100:156])


async def test_no_seam_across_a_tile_edge(tclient, session):
    await add_points(session, cluster(LEFT, 0.99, 0.5, 9))  # next to the shared edge
    left, right = await get_heat(tclient, LEFT), await get_heat(tclient, RIGHT)
    assert right[128, 0, 3] > 0  # the blob spills over the edge
    step = np.abs(left[90:166, 255].astype(int) - right[90:166, 0].astype(int))
    assert step.max() <= 40  # neighbouring pixels, one per tile: close colours


async def test_filters_and_weight(tclient, session):
    await add_points(session, cluster(LEFT, 0.3, 0.3, 4, service_code="eclairage", supports=3))
    await add_points(session, cluster(LEFT, 0.7, 0.7, 4, service_code="voirie", state="resolved"))
    only = await get_heat(tclient, LEFT, service_code="eclairage")
    assert only[77, 77, 3] > 0 and only[179, 179, 3] == 0
    state = await get_heat(tclient, LEFT, state="resolved")
    assert state[77, 77, 3] == 0 and state[179, 179, 3] > 0
    weighted = await get_heat(tclient, LEFT, weight="supports")
    assert weighted[77, 77, 3] > 0 and weighted[179, 179, 3] == 0  # zero supports there
    none = await get_heat(tclient, LEFT, service_code="inconnu")
    assert (none[..., 3] == 0).all()
    dated = await get_heat(tclient, LEFT, **{"from": "2000-01-01"})
    assert dated[77, 77, 3] > 0 and dated[179, 179, 3] > 0
    bad = await tclient.get(f"/tiles/heatmap/{LAYER}/{Z}/0/0.png", params={"weight": "votes"})
    assert bad.status_code == 422 and "Pondération" in bad.json()["message"]


async def test_grid_kept_on_write_equals_a_rebuild(session, test_layer):
    ids = await add_points(session, cluster(LEFT, 0.4, 0.6, 3, supports=2))
    ids += await add_points(session, cluster(RIGHT, 0.1, 0.1, 2, state="resolved"))
    await session.execute(
        text("UPDATE tiles_test.point SET state = 'closed', supports = 5 WHERE id = :id"),
        {"id": ids[0]},
    )
    await session.execute(text("DELETE FROM tiles_test.point WHERE id = :id"), {"id": ids[-1]})
    # Writers append deltas (tiles.heat_delta); the fold moves them into the grid.
    await session.execute(text("SELECT tiles.fold_heat()"))
    query = text(
        """SELECT dim_a, dim_b, level, cx, cy, n, w FROM tiles.heat_cell
           WHERE layer = :l ORDER BY 1, 2, 3, 4, 5"""
    )
    kept = (await session.execute(query, {"l": LAYER})).all()
    assert (
        await session.execute(text("SELECT tiles.rebuild_heat(:l)"), {"l": LAYER})
    ).scalar() == 4
    rebuilt = (await session.execute(query, {"l": LAYER})).all()
    assert kept == rebuilt
    totals = [r for r in kept if r.dim_a == "" and r.level == 18]
    assert sum(r.n for r in totals) == 4 and sum(r.w for r in totals) == 5 + 2 + 2 + 0


def test_uniform_density_keeps_its_value():
    grid = np.full((32 + 2 * render.MARGIN,) * 2, 3.0)
    values = render.density(grid, 32)
    np.testing.assert_allclose(values, 3.0)


def test_colour_ramp_is_monotonic_in_alpha():
    ramp = render.colour_ramp()
    assert ramp[0, 3] == 0 and (np.diff(ramp[1:, 3].astype(int)) >= 0).all()


def test_palette_png_decodes_to_the_ramp_colours():
    """The palette PNG is a smaller encoding of the same pixels, not other colours."""
    rng = np.random.default_rng(5)
    grid = np.zeros((32 + 2 * render.MARGIN,) * 2)
    grid[4:20, 4:20] = rng.integers(0, 40, (16, 16))  # a busy quarter, the rest empty
    values = render.density(grid, 32)
    decoded = Image.open(io.BytesIO(render.heat_png(grid, 32, scale=12.0))).convert("RGBA")
    np.testing.assert_array_equal(np.asarray(decoded), render.colourise(values, 12.0))
    assert (np.asarray(decoded)[..., 3] == 0).any() and (np.asarray(decoded)[..., 3] > 0).any()
