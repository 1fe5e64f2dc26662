"""The tile pool forces generic plans: each tile statement must still read its GiST index.

A custom plan costs more to make than a sparse tile takes to run, so the served tile
pool sets `plan_cache_mode = force_generic_plan` (carto/tiles/db.py). A generic plan
does not know the tile's box; these tests check, on the demo database, that it still
probes the spatial (or cell) index instead of scanning a layer.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from carto.tiles import sql
from carto.tiles.db import POOL_SETTINGS, positional
from carto.tiles.filters import TileFilters
from carto.tiles.grid import TileRequest, cell_window
from carto.tiles.heat import packed_cells_sql
from carto.tiles.layers import get_layer
from carto.tiles.render import MARGIN

TILE = TileRequest(14, 8317, 5467)  # Lille
BIG_SCAN = re.compile(r"Seq Scan on (signalement|contribution|polygon_geom|heat_cell\w*)\b")


async def generic_plan(session, statement: str, params: dict) -> str:
    """EXPLAIN of `statement` as the pool runs it: prepared, generic plan."""
    positional_sql, names = positional(statement)
    mode = POOL_SETTINGS["plan_cache_mode"]
    await session.execute(text(f"SET LOCAL plan_cache_mode = {mode}"))
    await session.execute(text(f"PREPARE tile_statement AS {positional_sql}"))
    values = ", ".join(
        str(params[n]) if isinstance(params[n], int) else f"'{params[n]}'" for n in names
    )
    rows = await session.execute(text(f"EXPLAIN EXECUTE tile_statement({values})"))
    plan = "\n".join(r[0] for r in rows)
    await session.execute(text("DEALLOCATE tile_statement"))
    return plan


def assert_index_scan(plan: str, index_words: tuple[str, ...]) -> None:
    assert "$" in plan, plan  # generic: the plan holds parameters, not the tile's values
    assert not BIG_SCAN.search(plan), plan  # small lookup tables may be read whole
    assert "polygon_geom_pkey" not in plan, plan
    assert any(word in plan for word in index_words), plan


@pytest.mark.parametrize("layer", ["signalements", "contributions"])
async def test_point_tiles_probe_the_gist_index(session, layer):
    lay = get_layer(layer)
    conditions, extra = sql.view_conditions(lay, TileFilters())
    plan = await generic_plan(
        session, sql.point_tile_sql(lay, conditions), sql.tile_params(TILE) | extra
    )
    assert_index_scan(plan, ("geom_3857",))


async def test_stored_point_tiles_scan_the_layers_covering_index(session):
    lay = get_layer("signalements")
    assert lay.stored_points
    for flt in (TileFilters(), TileFilters({"service_code": ("voirie",), "state": ("new",)})):
        statement, extra = sql.stored_point_sql(lay, flt)
        params = sql.tile_params(TILE)
        params |= {k: "{" + ",".join(v) + "}" for k, v in extra.items()}
        plan = await generic_plan(session, statement, params)
        assert "Index Only Scan using heat_point_" in plan, plan  # the layer's SP-GiST index
        assert "Seq Scan on heat_point" not in plan, plan


@pytest.mark.parametrize("layer", ["communes", "intercommunalites", "reference_features"])
async def test_polygon_tiles_probe_their_band_index(session, layer):
    lay = get_layer(layer)
    for z in (6, 14):
        tile = TileRequest(z, TILE.x >> (14 - z), TILE.y >> (14 - z))
        conditions, extra = sql.polygon_conditions(lay, TileFilters())
        statement = sql.polygon_tile_sql(lay, sql.band_for(z), conditions)
        plan = await generic_plan(session, statement, sql.tile_params(tile) | {"layer": layer})
        assert_index_scan(plan, (f"polygon_geom_b{sql.band_for(z)}",))


async def test_heat_window_probes_the_cell_index(session):
    lay = get_layer("signalements")
    window = cell_window(TILE, margin=MARGIN)
    cells, extra = sql.heat_cells_sql(TileFilters(), lay)
    params = sql.window_params(window, TILE) | {"layer": lay.name} | extra
    plan = await generic_plan(session, packed_cells_sql(cells, "n"), params)
    assert_index_scan(plan, ("Index Scan", "Index Only Scan"))
    assert "Nested Loop" in plan and "Hash Join" not in plan, plan  # one probe per cell row
    # The pending deltas (points written since the last fold, about a second's worth)
    # are read once per tile, not once per cell row.
    assert not any("on heat_delta" in line for line in subtree(plan, "Nested Loop")), plan
    assert "on heat_delta" in plan, plan


def subtree(plan: str, node: str) -> list[str]:
    """The lines under the first `node` of an EXPLAIN text (deeper indentation)."""
    lines = plan.splitlines()
    start = next(i for i, line in enumerate(lines) if node in line)
    depth = len(lines[start]) - len(lines[start].lstrip(" ->"))
    below = []
    for line in lines[start + 1 :]:
        if len(line) - len(line.lstrip(" ->")) <= depth:
            break
        below.append(line)
    return below
