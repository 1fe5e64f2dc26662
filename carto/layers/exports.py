"""Streamed exports of one public layer: GeoJSON (RFC 7946) and CSV.

Rows come through a server-side cursor in chunks (`session.stream`), so memory stays
flat whatever the layer's size; PostGIS builds each GeoJSON feature itself.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncSession

from carto.layers.catalog import Layer, quote_ident
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


def csv_sql(layer: Layer, flt: LayerFilter) -> tuple[str, dict[str, Any]]:
    """Properties, then longitude/latitude (a point on the surface) and the WKT geometry."""
    where, params = where_sql(layer, flt)
    g = _geom(layer)
    sql = (
        f"SELECT {_props(layer)}, "
        f"round(ST_X(ST_PointOnSurface({g}))::numeric, {COORD_DIGITS}) AS longitude, "
        f"round(ST_Y(ST_PointOnSurface({g}))::numeric, {COORD_DIGITS}) AS latitude, "
        f"ST_AsText({g}, {COORD_DIGITS}) AS wkt "
        f"FROM {layer.qualified} t {where} {_order(layer)}"
    )
    return sql, params


def wkb_sql(layer: Layer, flt: LayerFilter) -> tuple[str, dict[str, Any]]:
    """Properties and the geometry as WKB, for the GeoPackage/FlatGeobuf writer."""
    where, params = where_sql(layer, flt)
    sql = (
        f"SELECT {_props(layer)}, ST_AsBinary({_geom(layer)}) AS wkb "
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


def csv_value(value: Any) -> Any:
    """A cell: ISO dates, true/false, JSON for structured values, empty for NULL."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    return value


async def csv_chunks(session: AsyncSession, layer: Layer, flt: LayerFilter) -> AsyncIterator[bytes]:
    """UTF-8 CSV (RFC 4180), a header line then one line per feature."""
    sql, params = csv_sql(layer, flt)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.name for c in layer.properties] + ["longitude", "latitude", "wkt"])
    yield buffer.getvalue().encode()
    async for rows in stream_rows(session, sql, params):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([csv_value(v) for v in row] for row in rows)
        yield buffer.getvalue().encode()
