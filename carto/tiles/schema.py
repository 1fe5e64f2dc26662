"""The `tiles` schema's SQL: one home, `carto/tiles/sql/*.sql`, applied by migrations.

Every function, view and trigger of the tile side is defined once, in those files,
as `CREATE OR REPLACE`: applying them again is harmless, and applying them after an
edit makes the live definitions the files' ones. A revision that changes tile SQL
edits the files and calls `apply_tile_sql(op.execute)`; the tables stay in the
revisions (carto/migrations/versions/g008_tiles.py and later).

The files do not type the grid's constants nor the layer list: `@NAME@` placeholders
are filled from carto/tiles/grid.py and carto/tiles/layers.py when they are applied.
Attributes that change who may run a function (SECURITY DEFINER, GRANT) belong in the
files too, next to the function.

Replaying the history from empty applies the *current* files at the baseline, as a
repeatable migration would: the files must therefore create on the baseline's tables
(a plpgsql body may use a column a later revision adds; a SQL-language body or a view
may not).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path

from carto.tiles.grid import (
    BUFFER,
    EXTENT,
    HEAT_INCREMENTAL_SHARE,
    HEAT_MAX_LEVEL,
    HEAT_MIN_LEVEL,
    WORLD_SIZE,
)
from carto.tiles.layers import POINT_LAYERS, POLYGON_LAYERS, TileLayer

SQL_DIR = Path(__file__).with_name("sql")
# In the order they are applied: each file uses only what the ones before it define.
FILES = ("grid", "cache", "heat", "points", "polygons", "layers")
PLACEHOLDER = re.compile(r"@([A-Z_]+)@")

Literal = str | int | bool | tuple[str, ...]


def sql_literal(value: Literal) -> str:
    """A SQL literal for our own constants (names, numbers, flags, text arrays)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, tuple):
        return "ARRAY[" + ", ".join(sql_literal(v) for v in value) + "]::text[]"
    return "'" + value.replace("'", "''") + "'"


def sql_values(rows: Iterable[tuple[Literal, ...]]) -> str:
    """The rows of a `VALUES` list."""
    return ", ".join("(" + ", ".join(sql_literal(v) for v in row) + ")" for row in rows)


def id_type(layer: TileLayer) -> str:
    """The SQL type of the layer's feature ids (its view's `id`)."""
    return "integer" if layer.properties.get("id") == "Number" else "text"


def _table(layer: TileLayer) -> str:
    if layer.table is None:
        raise ValueError(f"layer {layer.name}: no table, so no trigger keeps its tiles")
    return layer.table


def point_layer_rows() -> list[tuple[Literal, ...]]:
    """(layer, source, id_type, dim_a, dim_b, weight, maxzoom, table, key, stored) per
    point layer, for layers.sql."""
    rows: list[tuple[Literal, ...]] = []
    for layer in POINT_LAYERS:
        weights = set(layer.weights.values())
        if len(weights) != 1 or set(layer.dims) != {"a", "b"}:
            raise ValueError(f"layer {layer.name}: the heat grid needs two dims and one weight")
        rows.append((
            layer.name, layer.source, id_type(layer), layer.dims["a"].column,
            layer.dims["b"].column, weights.pop(), layer.maxzoom, _table(layer),
            layer.table_key, layer.stored_points,
        ))  # fmt: skip
    return rows


def polygon_layer_rows() -> list[tuple[Literal, ...]]:
    """(layer, source, props, id_type, maxzoom, table, key) per polygon layer."""
    return [
        (layer.name, layer.source, tuple(layer.properties), id_type(layer), layer.maxzoom,
         _table(layer), layer.table_key)
        for layer in POLYGON_LAYERS
    ]  # fmt: skip


def placeholders() -> dict[str, str]:
    """What each `@NAME@` of the files stands for."""
    return {
        "EXTENT": repr(float(EXTENT)),
        "BUFFER": repr(float(BUFFER)),
        "WORLD_SIZE": repr(WORLD_SIZE),
        "HEAT_MIN_LEVEL": str(HEAT_MIN_LEVEL),
        "HEAT_MAX_LEVEL": str(HEAT_MAX_LEVEL),
        "INCREMENTAL_SHARE": str(HEAT_INCREMENTAL_SHARE),
        "POINT_LAYERS": sql_values(point_layer_rows()),
        "POLYGON_LAYERS": sql_values(polygon_layer_rows()),
    }


def tile_sql(name: str) -> str:
    """The file `sql/<name>.sql` with its placeholders filled."""
    values = placeholders()

    def fill(match: re.Match[str]) -> str:
        if match.group(1) not in values:
            raise KeyError(f"{name}.sql: unknown placeholder {match.group(0)}")
        return values[match.group(1)]

    return PLACEHOLDER.sub(fill, (SQL_DIR / f"{name}.sql").read_text())


def apply_tile_sql(execute: Callable[[str], object]) -> None:
    """(Re)define every function, view and trigger of the tiles schema: the one line a
    revision that changes tile SQL runs (`apply_tile_sql(op.execute)`)."""
    for name in FILES:
        execute(tile_sql(name))
