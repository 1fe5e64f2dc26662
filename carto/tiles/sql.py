"""Every SQL statement of the tile server, composed from small helpers.

Martin's pattern: one statement per tile, `ST_AsMVT(ST_AsMVTGeom(geom_3857,
ST_TileEnvelope(z, x, y), 4096, 64, true))`, with an `&&` filter on the stored
EPSG:3857 geometry so that the GiST index answers. Identifiers come from the
layer registry (never from a request); every value is a bound parameter.
"""

from __future__ import annotations

from typing import Any

from carto.tiles.filters import TileFilters
from carto.tiles.grid import BUFFER, EXTENT, ZOOM_BANDS, CellWindow, TileRequest
from carto.tiles.layers import NO_DIM, TileLayer, stored_columns

MARGIN = BUFFER / EXTENT
MAX_POINTS_PER_TILE = 20_000  # beyond: the tile is answered with clusters (< 500 kB)

ENVELOPE = "ST_TileEnvelope(:z, :x, :y)"
BUFFERED = f"ST_TileEnvelope(:z, :x, :y, margin => {MARGIN})"


def band_for(z: int) -> int:
    """The zoom band (tiles.band) whose simplified polygons a tile at zoom z reads."""
    return next(band for band, low, high, _simplified in ZOOM_BANDS if low <= z <= high)


def tile_params(tile: TileRequest) -> dict[str, Any]:
    return {"z": tile.z, "x": tile.x, "y": tile.y}


def view_conditions(layer: TileLayer, flt: TileFilters) -> tuple[str, dict[str, Any]]:
    """`AND ...` conditions on the layer's view (alias v) for the filters, with their params."""
    sql: list[str] = []
    params: dict[str, Any] = {}
    for i, (param, values) in enumerate(sorted(flt.values.items())):
        column = layer.filter_for(param)
        assert column is not None
        sql.append(f"AND v.{column.column}::text = ANY(:f{i})")
        params[f"f{i}"] = list(values)
    if layer.date_column and flt.date_from:
        sql.append(f"AND v.{layer.date_column} >= :date_from")
        params["date_from"] = flt.date_from
    if layer.date_column and flt.date_to:
        sql.append(f"AND v.{layer.date_column} <= :date_to")
        params["date_to"] = flt.date_to
    return " ".join(sql), params


def point_tile_sql(layer: TileLayer, conditions: str) -> str:
    """Individual features in one pass; NULL when more than MAX_POINTS_PER_TILE."""
    props = ", ".join(f"v.{p}" for p in layer.properties if p != "count")
    return f"""
        SELECT CASE WHEN t.n > {MAX_POINTS_PER_TILE} THEN NULL
                    ELSE coalesce(t.mvt, ''::bytea) END AS tile,
               pg_current_snapshot()::text AS snapshot
        FROM (SELECT count(*) AS n, ST_AsMVT(q.*, '{layer.name}', {EXTENT}, 'geom') AS mvt
              FROM (SELECT {props},
                           ST_AsMVTGeom(v.geom_3857, {ENVELOPE}, {EXTENT}, {BUFFER}, true) AS geom
                    FROM {layer.source} v
                    WHERE v.geom_3857 && {BUFFERED} {conditions}
                    LIMIT {MAX_POINTS_PER_TILE + 1}) q) t
    """


# Points read for a stored tile: the buffer plus one pixel (ST_AsMVTGeom clips after
# rounding, so a point up to half a pixel past the buffer is kept).
STORED_MARGIN = (BUFFER + 1) / EXTENT


SMALL_TILE = 64  # up to this many points, ST_AsMVT encodes faster than a call out


def stored_point_sql(layer: TileLayer, flt: TileFilters) -> tuple[str, dict[str, Any]]:
    """The features of a stored point layer near the tile (carto/tiles/sql/points.sql).

    Index-only scans of the layer's SP-GiST index. The first row always exists: the
    tile envelope, the snapshot, `small` (at most SMALL_TILE points, counted on a scan
    that stops at SMALL_TILE + 1) and for a small tile the tile itself (`ST_AsMVT`,
    the properties named and typed as the view's). Otherwise, one row per pair of dims
    with the count and the features' fixed-width records (`tiles.heat_point.rec`) end
    to end, at most MAX_POINTS_PER_TILE + 1 points, which carto/tiles/stored.py
    encodes without a Python object per point. Each branch runs only when needed (a
    one-time filter): counting once through a MATERIALIZED CTE instead cost a dense
    tile ~25 % more (bench/tiles, A/B on the same database).

    The text depends only on the layer and on which dims are filtered, so it is made
    once per (layer, dims) and kept: built per request it cost ~15 µs of a sparse
    tile's ~140 µs of app CPU (profiled under bench/tiles)."""
    # Points, like pending deltas, carry one point's dims: the deltas' condition (alias d).
    _, dims, params = _dims_condition(flt, layer)
    key = (layer.name, dims, SMALL_TILE, MAX_POINTS_PER_TILE)  # the limits too: tests set them
    made = _STORED_SQL.get(key)
    if made is None or made[0] is not layer:  # a layer registered again under its name
        made = _STORED_SQL[key] = (layer, _stored_statement(layer, dims))
    return made[1], params


# (layer name, dims condition, limits) -> (the layer it was made for, statement)
_STORED_SQL: dict[tuple[str, str, int, int], tuple[TileLayer, str]] = {}


def _stored_statement(layer: TileLayer, dims: str) -> str:
    quoted = layer.name.replace("'", "''")

    def near(columns: str, limit: int) -> str:
        return f"""
            SELECT {columns}
            FROM tiles.heat_point d,
                 ST_TileEnvelope(:z, :x, :y, margin => {STORED_MARGIN}) AS b
            WHERE d.layer = '{quoted}'  -- a literal: the layer's partial index
              AND point(d.x, d.y) <@ box(point(ST_XMin(b), ST_YMin(b)),
                                         point(ST_XMax(b), ST_YMax(b)))
              {dims}
            LIMIT {limit}"""

    as_property = {"id": "p.id::bigint", "w": "p.w::bigint"}
    props = ", ".join(
        f'{as_property.get(column, f"nullif(p.{column}, {NO_DIM!r})")} AS "{prop}"'
        for prop, column in stored_columns(layer).items()
    )
    return f"""
        SELECT pg_current_snapshot()::text AS snapshot, s.small,
               ST_XMin(e) AS xmin, ST_YMin(e) AS ymin, ST_XMax(e) AS xmax, ST_YMax(e) AS ymax,
               CASE WHEN s.small THEN (
                   SELECT ST_AsMVT(q.*, '{quoted}', {EXTENT}, 'geom') FROM (
                       SELECT {props}, ST_AsMVTGeom(ST_SetSRID(ST_MakePoint(p.x, p.y), 3857),
                                                    e, {EXTENT}, {BUFFER}, true) AS geom
                       FROM ({near("d.x, d.y, d.id, d.dim_a, d.dim_b, d.w", SMALL_TILE + 1)}) p
                   ) q) END AS mvt,
               g.dim_a, g.dim_b, g.n, g.recs
        FROM ST_TileEnvelope(:z, :x, :y) AS e
        CROSS JOIN LATERAL (
            SELECT count(*) <= {SMALL_TILE} AS small
            FROM ({near("1", SMALL_TILE + 1)}) c) s
        LEFT JOIN LATERAL (
            SELECT p.dim_a, p.dim_b, count(*)::integer AS n, string_agg(p.rec, ''::bytea) AS recs
            FROM ({near("d.dim_a, d.dim_b, d.rec", MAX_POINTS_PER_TILE + 1)}) p
            WHERE NOT s.small
            GROUP BY p.dim_a, p.dim_b) g ON true
    """


def _dims_condition(flt: TileFilters, layer: TileLayer) -> tuple[str, str, dict[str, Any]]:
    """Which rows of `tiles.heat_cell` answer the filters (the total row when none), and
    which pending deltas (`tiles.heat_delta`, one row per written point) do."""
    params: dict[str, Any] = {}
    dims = layer.dims
    a, b = dims.get("a"), dims.get("b")
    a_vals = flt.values.get(a.param) if a else None
    b_vals = flt.values.get(b.param) if b else None
    if a_vals and b_vals:
        cond = "h.dim_a = ANY(:dim_a) AND h.dim_b = ANY(:dim_b)"
        pending = "AND d.dim_a = ANY(:dim_a) AND d.dim_b = ANY(:dim_b)"
    elif a_vals:
        cond, pending = "h.dim_a = ANY(:dim_a) AND h.dim_b <> ''", "AND d.dim_a = ANY(:dim_a)"
    elif b_vals:
        cond = "h.dim_b = ANY(:dim_b) AND h.dim_b <> '' AND h.dim_a <> ''"
        pending = "AND d.dim_b = ANY(:dim_b)"
    else:
        cond, pending = "h.dim_a = '' AND h.dim_b = ''", ""
    if a_vals:
        params["dim_a"] = list(a_vals)
    if b_vals:
        params["dim_b"] = list(b_vals)
    return cond, pending, params


def heat_cells_sql(
    flt: TileFilters, layer: TileLayer, *, windowed: bool = True
) -> tuple[str, dict[str, Any]]:
    """Cells of the precomputed grid: (cx, cy, n, w) rows, dims filtered.

    The grid is `tiles.heat_cell` plus the pending deltas of `tiles.heat_delta` (points
    written since the last fold, about a second's worth), so counts are exact at once.

    Windowed, it probes one index range per cell row (`generate_series` over cy), so
    the cost follows the window's size, not the number of points; the pending points
    are read once and placed in cells here.
    """
    cond, pending, params = _dims_condition(flt, layer)
    if not windowed:
        return (
            f"""SELECT h.cx, h.cy, sum(h.n)::bigint AS n, sum(h.w) AS w FROM tiles.heat_cells h
                WHERE h.layer = :layer AND {cond} AND h.level = :level GROUP BY h.cx, h.cy""",
            params,
        )
    sql = f"""
        SELECT s.cx, s.cy, sum(s.n)::bigint AS n, sum(s.w) AS w FROM (
            SELECT h.cx, h.cy, h.n, h.w
            FROM generate_series(CAST(:cy0 AS integer), CAST(:cy1 AS integer)) AS r(cy)
            CROSS JOIN LATERAL (
                SELECT h.cx, h.cy, h.n, h.w FROM tiles.heat_cell h
                WHERE h.layer = :layer AND {cond} AND h.level = :level
                  AND h.cy = r.cy AND h.cx BETWEEN :cx0 AND :cx1
                OFFSET 0) h  -- a probe per cell row, even in a generic plan (no hash join)
            UNION ALL
            SELECT p.cx, p.cy, p.n, p.w FROM (
                SELECT tiles.tile_x(d.x, CAST(:level AS integer)) AS cx,
                       tiles.tile_y(d.y, CAST(:level AS integer)) AS cy, d.n, d.w
                FROM tiles.heat_delta d WHERE d.layer = :layer {pending}) p
            WHERE p.cx BETWEEN :cx0 AND :cx1 AND p.cy BETWEEN :cy0 AND :cy1
        ) s
        GROUP BY s.cx, s.cy
    """
    return sql, params


def raw_cells_sql(
    layer: TileLayer, conditions: str, weight_column: str | None, *, windowed: bool = True
) -> str:
    """Cells counted on the fly from the view (for filters the grid does not hold)."""
    weight = f"coalesce(v.{weight_column}, 0)::float8" if weight_column else "1.0::float8"
    where = (
        "v.geom_3857 && ST_TileEnvelope(:z, :x, :y, margin => :ratio)"
        if windowed
        else "v.geom_3857 IS NOT NULL"
    )
    window = "WHERE cx BETWEEN :cx0 AND :cx1 AND cy BETWEEN :cy0 AND :cy1" if windowed else ""
    return f"""
        SELECT cx, cy, count(*)::bigint AS n, sum(w) AS w FROM (
            SELECT tiles.tile_x(ST_X(p), :level) AS cx, tiles.tile_y(ST_Y(p), :level) AS cy, w
            FROM (SELECT ST_PointOnSurface(v.geom_3857) AS p, {weight} AS w
                  FROM {layer.source} v WHERE {where} {conditions}) s) c
        {window}
        GROUP BY cx, cy
    """


def window_params(window: CellWindow, tile: TileRequest) -> dict[str, Any]:
    cx_min, cy_min, cx_max, cy_max = window.bounds
    return {
        **tile_params(tile),
        "level": window.level,
        "cx0": cx_min,
        "cy0": cy_min,
        "cx1": cx_max,
        "cy1": cy_max,
        "ratio": window.margin / window.n,
    }


def cluster_tile_sql(layer: TileLayer, cells_sql: str) -> str:
    """One point per non-empty cell at the cell's centre, with its `count`."""
    return f"""
        SELECT (SELECT ST_AsMVT(t.*, '{layer.name}', {EXTENT}, 'geom') FROM (
                SELECT c.n::integer AS count,
                       ST_AsMVTGeom(ST_Centroid(ST_TileEnvelope(:level, c.cx, c.cy)),
                                    {ENVELOPE}, {EXTENT}, 0, true) AS geom
                FROM ({cells_sql}) c WHERE c.n > 0) t) AS tile,
            pg_current_snapshot()::text AS snapshot
    """


def polygon_conditions(layer: TileLayer, flt: TileFilters) -> tuple[str, dict[str, Any]]:
    """`AND ...` conditions on the stored properties (alias g) of a polygon layer."""
    sql: list[str] = []
    params: dict[str, Any] = {}
    for i, (param, values) in enumerate(sorted(flt.values.items())):
        column = layer.filter_for(param)
        assert column is not None
        sql.append(f"AND g.props ->> '{column.column}' = ANY(:f{i})")
        params[f"f{i}"] = list(values)
    return " ".join(sql), params


def polygon_tile_sql(layer: TileLayer, band: int, conditions: str = "") -> str:
    """Simplified polygons of the zoom band; the band is a literal so the partial index applies."""
    return f"""
        SELECT (SELECT ST_AsMVT(t.*, '{layer.name}', {EXTENT}, 'geom') FROM (
                SELECT g.props,
                       ST_AsMVTGeom(g.geom_3857, {ENVELOPE}, {EXTENT}, {BUFFER}, true) AS geom
                FROM tiles.polygon_geom g
                WHERE g.layer = :layer AND g.band = {int(band)}
                  AND g.geom_3857 && {BUFFERED} {conditions}) t) AS tile,
            pg_current_snapshot()::text AS snapshot
    """


CACHE_GET = """
    SELECT body, etag FROM tiles.tile_cache
    WHERE layer = :layer AND z = :z AND x = :x AND y = :y AND variant = :variant
"""

CACHE_PUT = """
    SELECT tiles.cache_put(:layer, :z, :x, :y, :variant, :body, :etag,
                           CAST(CAST(:snapshot AS text) AS pg_snapshot))
"""
