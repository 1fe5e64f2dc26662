"""Point tiles from `tiles.heat_point`, encoded by a compiled encoder (layers with `stored_points`).

`tiles.heat_point` holds what such a layer's tile shows of each feature (position,
id, two dimensions, weight), written by the layer's trigger in the same transaction
as the feature, so a tile read from it matches the view at the same snapshot (the
tile cache relies on that snapshot). carto/tiles/sql/points.sql says what this saves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from carto.tiles import sql
from carto.tiles.db import TileDB
from carto.tiles.filters import TileFilters
from carto.tiles.grid import TileRequest
from carto.tiles.layers import NO_DIM, TileLayer, stored_columns
from carto.tiles.point_encoder import IntProperty, Property, TextProperty, encode_points

# tiles.heat_point.rec (carto/migrations/versions/g008_tiles.py): x, y, id, weight, big-endian
RECORD = np.dtype([("x", ">f8"), ("y", ">f8"), ("id", ">i8"), ("w", ">f8")])


def encode_rows(
    layer: TileLayer, rows: Sequence[Mapping[str, Any]], bounds: tuple[float, ...]
) -> bytes:
    """The MVT of the grouped rows of `sql.stored_point_sql`."""
    groups = [r for r in rows if r["n"]]
    if not groups:
        return b""
    recs = np.frombuffer(b"".join(bytes(r["recs"]) for r in groups), dtype=RECORD)
    x, y = recs["x"].astype(np.float64), recs["y"].astype(np.float64)
    group_of = np.repeat(np.arange(len(groups)), [r["n"] for r in groups])
    data = {"id": recs["id"].astype(np.int64), "w": np.rint(recs["w"]).astype(np.int64)}
    props: list[Property] = []
    for prop, column in stored_columns(layer).items():
        if column.startswith("dim_"):
            labels = [None if r[column] == NO_DIM else r[column] for r in groups]
            props.append(TextProperty(prop, group_of, labels))
        else:
            props.append(IntProperty(prop, data[column]))
    xmin, ymin, xmax, ymax = bounds
    return encode_points(layer.name, x, y, props, (xmin, ymin, xmax, ymax))


async def stored_tile(
    db: TileDB, layer: TileLayer, tile: TileRequest, flt: TileFilters
) -> tuple[bytes | None, str]:
    """(body, snapshot); body None when the tile holds too many points (clusters then)."""
    statement, extra = sql.stored_point_sql(layer, flt)
    params = sql.tile_params(tile) | extra
    rows = await db.rows(statement, params)
    first = rows[0]
    if first["small"]:  # encoded by ST_AsMVT in the same statement
        return bytes(first["mvt"] or b""), first["snapshot"]
    if sum(r["n"] or 0 for r in rows) > sql.MAX_POINTS_PER_TILE:
        return None, first["snapshot"]
    bounds = (first["xmin"], first["ymin"], first["xmax"], first["ymax"])
    return encode_rows(layer, rows, bounds), first["snapshot"]
