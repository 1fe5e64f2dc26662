"""GeoPackage (and FlatGeobuf) files of public layers, styled for QGIS.

Rows come from a server-side cursor and are appended to the file chunk by chunk with
pyogrio (in a worker thread), so a million-point layer is written in flat memory.
Each layer gets its title, description, licence and date (gpkg_contents and
gpkg_metadata) and a QML style in `layer_styles`, the table QGIS reads on open.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncSession

from carto.errors import CartoError
from carto.layers.catalog import Column, Layer, quote_ident
from carto.layers.exports import stream_rows, wkb_sql
from carto.layers.filters import LayerFilter, where_sql
from carto.layers.styles import LayerStyle, geometry_family, qml
from carto.layers.stylist import style_for

LICENCE = "Licence Ouverte / Open Licence 2.0 (Etalab)"
GPKG_CHUNK_ROWS = 20000
_OGR_TYPES = {
    "POINT": "Point",
    "MULTIPOINT": "MultiPoint",
    "LINESTRING": "LineString",
    "MULTILINESTRING": "MultiLineString",
    "POLYGON": "Polygon",
    "MULTIPOLYGON": "MultiPolygon",
}


@dataclass(frozen=True)
class ExportPart:
    """One layer of the output file: a public view, its filter, its name in the file."""

    layer: Layer
    flt: LayerFilter
    name: str


def _series(column: Column, values: list[Any]) -> Any:
    kind = column.kind
    if kind == "integer":
        return pd.array(values, dtype="Int64")
    if kind == "number":
        return pd.array([None if v is None else float(v) for v in values], dtype="Float64")
    if kind == "boolean":
        return pd.array(values, dtype="boolean")
    if kind in ("datetime", "date"):
        return pd.to_datetime(values, utc=True)
    if kind == "json":
        return [None if v is None else json.dumps(v, ensure_ascii=False) for v in values]
    return [None if v is None else str(v) for v in values]


def frame(layer: Layer, rows: Sequence[Row[Any]]) -> gpd.GeoDataFrame:
    """A chunk of rows (properties then WKB) as a GeoDataFrame in EPSG:4326."""
    data = {c.name: _series(c, [r[i] for r in rows]) for i, c in enumerate(layer.properties)}
    geometry = shapely.from_wkb([bytes(r[-1]) if r[-1] is not None else None for r in rows])
    return gpd.GeoDataFrame(data, geometry=geometry, crs="EPSG:4326")


async def geometry_type(session: AsyncSession, part: ExportPart) -> str:
    """The OGR geometry type of the part: the view's declared one, else what its rows hold."""
    declared = part.layer.geometry.geometry_type if part.layer.geometry else None
    if declared and declared.upper() in _OGR_TYPES:
        return _OGR_TYPES[declared.upper()]
    where, params = where_sql(part.layer, part.flt)
    geom = quote_ident(part.layer.geometry.name if part.layer.geometry else "geom")
    sql = f"SELECT DISTINCT GeometryType(t.{geom}) FROM {part.layer.qualified} t {where} LIMIT 3"
    found = {str(v).upper() for v in (await session.execute(text(sql), params)).scalars() if v}
    if len(found) == 1:
        return _OGR_TYPES.get(found.pop(), "Unknown")
    if found and all(f.endswith("POLYGON") for f in found):
        return "MultiPolygon"
    if found and all(f.endswith("LINESTRING") for f in found):
        return "MultiLineString"
    return "Unknown"


def _layer_metadata(part: ExportPart, stamp: str) -> dict[str, str]:
    meta = {
        "TITLE": part.layer.title,
        "DESCRIPTION": part.layer.description or part.layer.title,
        "LICENSE": LICENCE,
        "DATE": stamp,
        "SOURCE": f"Carto, vue public_layers.{part.layer.name}",
    }
    if described := part.flt.describe():
        meta["FILTER"] = described
    return meta


def _write_chunk(
    path: Path, part: ExportPart, gdf: gpd.GeoDataFrame, gtype: str, first: bool
) -> None:
    options: dict[str, Any] = {
        "geometry_type": gtype,
        "promote_to_multi": gtype.startswith("Multi"),
    }
    if first:
        stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        options |= {
            "layer_options": {
                "IDENTIFIER": part.layer.title,
                "DESCRIPTION": part.layer.description or part.layer.title,
            },
            "layer_metadata": _layer_metadata(part, stamp),
        }
        if not path.exists():
            options["dataset_options"] = {"VERSION": "1.2"}
    pyogrio.write_dataframe(gdf, path, layer=part.name, driver="GPKG", append=not first, **options)


async def write_geopackage(
    session: AsyncSession, parts: Sequence[ExportPart], path: Path, *, styled: bool = True
) -> dict[str, int]:
    """Write every part as a layer of a new GeoPackage at `path`; feature counts by layer."""
    counts: dict[str, int] = {}
    styles: dict[str, LayerStyle] = {}
    for part in parts:
        gtype = await geometry_type(session, part)
        sql, params = wkb_sql(part.layer, part.flt)
        first, count = True, 0
        async for rows in stream_rows(session, sql, params, chunk=GPKG_CHUNK_ROWS):
            gdf = frame(part.layer, rows)
            await anyio.to_thread.run_sync(_write_chunk, path, part, gdf, gtype, first)
            first, count = False, count + len(rows)
        if first:  # no row: still an (empty) layer with its schema
            empty = frame(part.layer, [])
            await anyio.to_thread.run_sync(_write_chunk, path, part, empty, gtype, True)
        counts[part.name] = count
        if styled:
            family = geometry_family(gtype)
            styles[part.name] = await style_for(session, part.layer, part.flt, family)
    if styles:
        await anyio.to_thread.run_sync(add_styles, path, styles)
    return counts


LAYER_STYLES_DDL = """
CREATE TABLE IF NOT EXISTS layer_styles (
  id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), f_table_schema TEXT(256),
  f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT,
  styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),
  update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
)
"""


def add_styles(path: Path, styles: dict[str, LayerStyle]) -> None:
    """QGIS's `layer_styles` table, one default QML style per layer, registered in gpkg_contents."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    with sqlite3.connect(path) as db:
        db.execute(LAYER_STYLES_DDL)
        db.execute(
            "INSERT OR REPLACE INTO gpkg_contents (table_name, data_type, identifier, description,"
            " last_change) VALUES ('layer_styles', 'attributes', 'layer_styles',"
            " 'Styles QGIS des couches', ?)",
            (stamp,),
        )
        for table, style in styles.items():
            db.execute(
                "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name,"
                " f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description,"
                " owner, ui) VALUES ('', '', ?, 'geom', ?, ?, '', 1, ?, 'carto', '')",
                (table, style.name, qml(style), f"Style Carto de {table}"),
            )
    db.close()


def to_flatgeobuf(gpkg: Path, layer: str, target: Path) -> None:
    """GeoPackage layer -> FlatGeobuf with GDAL's ogr2ogr (streams; FlatGeobuf cannot append)."""
    ogr2ogr = shutil.which("ogr2ogr")
    if ogr2ogr is None:
        raise CartoError("Export FlatGeobuf indisponible : ogr2ogr (gdal-bin) est absent.")
    subprocess.run(
        [ogr2ogr, "-f", "FlatGeobuf", "-nln", layer, str(target), str(gpkg), layer],
        check=True,
        capture_output=True,
        timeout=3600,
    )
