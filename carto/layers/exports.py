"""Streamed exports of one public layer: GeoJSON (RFC 7946) and CSV.

Rows come through a server-side cursor in chunks (`session.stream`), so memory stays
flat whatever the layer's size; PostGIS builds each GeoJSON feature itself.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncSession

from carto.layers.catalog import Column, Layer, quote_ident
from carto.layers.filters import LayerFilter, where_sql

CHUNK_ROWS = 5000
COORD_DIGITS = 7  # ~1 cm: what RFC 7946 suggests is plenty


def _order(layer: Layer) -> str:
    key = layer.id_column or layer.properties[0]
    return f"ORDER BY t.{quote_ident(key.name)}"


def _geom(layer: Layer) -> str:
    geom = layer.geometry
    assert geom is not None  # the catalog keeps spatial views only
    return f"t.{quote_ident(geom.name)}"


def _props(layer: Layer) -> str:
    return ", ".join(f"t.{quote_ident(c.name)}" for c in layer.properties)


def geojson_sql(layer: Layer, flt: LayerFilter) -> tuple[str, dict[str, Any]]:
    """One text column: each row's GeoJSON Feature (lon/lat, exterior rings counter-clockwise)."""
    where, params = where_sql(layer, flt)
    ident = f"'id', t.{quote_ident(layer.id_column.name)}, " if layer.id_column else ""
    geometry = f"ST_AsGeoJSON(ST_ForcePolygonCCW({_geom(layer)}), {COORD_DIGITS})::json"
    sql = (
        "SELECT json_build_object('type', 'Feature', "
        f"{ident}'geometry', {geometry}, "
        f"'properties', (SELECT row_to_json(p) FROM (SELECT {_props(layer)}) p))::text "
        f"FROM {layer.qualified} t {where} {_order(layer)}"
    )
    return sql, params


def _csv_quoted(ref: str) -> str:
    """SQL for one RFC 4180 field: quoted (quotes doubled) when it holds , " or a newline."""
    return (
        f"CASE WHEN {ref} ~ '[\",\\r\\n]' THEN '\"' || replace({ref}, '\"', '\"\"') || '\"' "
        f"ELSE coalesce({ref}, '') END"
    )


# Typed cells: a spreadsheet reads them as the numbers, booleans and dates they are.
_TYPED_KINDS = frozenset({"integer", "number", "boolean", "datetime", "date"})


def _csv_cell(column: Column) -> str:
    """SQL for one property as CSV text. Text (and JSON) cells starting with = + - @, a
    tab or a carriage return get a leading ' (OWASP CSV injection): a spreadsheet shows
    them as text instead of running them as a formula. Numeric columns are never
    touched, so a -3 stays the number -3."""
    value = f"(to_json(t.{quote_ident(column.name)}) #>> '{{}}')"
    if column.kind in _TYPED_KINDS:
        return value
    return f"CASE WHEN {value} ~ '^[=+@\\t\\r-]' THEN '''' || {value} ELSE {value} END"


def csv_sql(layer: Layer, flt: LayerFilter) -> tuple[str, dict[str, Any]]:
    """One text column: each row's CSV line (properties, longitude, latitude, WKT).

    PostgreSQL formats every cell (`to_json(x) #>> '{}'`: ISO 8601 dates, true/false,
    JSON for structured values), neutralises formulas and quotes it, so Python only
    joins lines.
    """
    where, params = where_sql(layer, flt)
    g = _geom(layer)
    cells = [_csv_cell(c) for c in layer.properties]
    cells += [
        f"round(ST_X(ST_PointOnSurface({g}))::numeric, {COORD_DIGITS})::text",
        f"round(ST_Y(ST_PointOnSurface({g}))::numeric, {COORD_DIGITS})::text",
        f"ST_AsText({g}, {COORD_DIGITS})",
    ]
    inner = ", ".join(f"{cell} AS c{i}" for i, cell in enumerate(cells))
    line = ", ".join(_csv_quoted(f"c.c{i}") for i in range(len(cells)))
    sql = (
        f"SELECT concat_ws(',', {line}) FROM (SELECT {inner} "
        f"FROM {layer.qualified} t {where} {_order(layer)}) c"
    )
    return sql, params


def _typed_cell(column: Column) -> str:
    """A column as the Arrow writer wants it: text, float8, or as is (ints, dates, bools)."""
    ident = f"t.{quote_ident(column.name)}"
    if column.kind == "json":
        return f"to_json({ident})::text"
    if column.kind == "number":
        return f"{ident}::float8"
    if column.kind == "text":
        return f"{ident}::text"
    return ident


def wkb_sql(layer: Layer, flt: LayerFilter) -> tuple[str, dict[str, Any]]:
    """Typed properties and the geometry as WKB, for the GeoPackage/FlatGeobuf writer."""
    where, params = where_sql(layer, flt)
    cells = ", ".join(_typed_cell(c) for c in layer.properties)
    sql = (
        f"SELECT {cells}, ST_AsBinary({_geom(layer)}) AS wkb "
        f"FROM {layer.qualified} t {where} {_order(layer)}"
    )
    return sql, params


async def stream_rows(
    session: AsyncSession, sql: str, params: dict[str, Any], chunk: int = CHUNK_ROWS
) -> AsyncIterator[Sequence[Row[Any]]]:
    """Rows in chunks from a server-side cursor."""
    result = await session.stream(text(sql).execution_options(yield_per=chunk), params)
    async for part in result.partitions(chunk):
        yield part


async def geojson_chunks(
    session: AsyncSession, layer: Layer, flt: LayerFilter
) -> AsyncIterator[bytes]:
    """A FeatureCollection, piece by piece (RFC 7946: WGS84 lon/lat, no `crs` member)."""
    sql, params = geojson_sql(layer, flt)
    head = {"type": "FeatureCollection", "name": layer.name}
    yield (json.dumps(head, ensure_ascii=False)[:-1] + ', "features": [\n').encode()
    first = True
    async for rows in stream_rows(session, sql, params):
        body = ",\n".join(row[0] for row in rows)
        yield (body if first else ",\n" + body).encode()
        first = False
    yield b"\n]}\n"


async def csv_chunks(session: AsyncSession, layer: Layer, flt: LayerFilter) -> AsyncIterator[bytes]:
    """UTF-8 CSV (RFC 4180), a header line then one line per feature."""
    sql, params = csv_sql(layer, flt)
    header = io.StringIO()
    csv.writer(header, lineterminator="\r\n").writerow(
        [c.name for c in layer.properties] + ["longitude", "latitude", "wkt"]
    )
    yield header.getvalue().encode()
    async for rows in stream_rows(session, sql, params):
        yield ("\r\n".join(row[0] for row in rows) + "\r\n").encode()
