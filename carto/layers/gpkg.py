"""GeoPackage (and FlatGeobuf) files of public layers, styled for QGIS.

Rows come from a server-side cursor and stream into GDAL as Arrow batches
(`arrow_writer`), so a million-point layer is written in flat memory.
Each layer gets its title, description, licence and date (gpkg_contents and
gpkg_metadata) and a QML style in `layer_styles`, the table QGIS reads on open.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from carto.layers.arrow_writer import write_layer
from carto.layers.catalog import Layer, quote_ident
from carto.layers.exports import stream_rows, wkb_sql
from carto.layers.filters import LayerFilter, where_sql
from carto.layers.styles import LayerStyle, geometry_family, qml
from carto.layers.stylist import style_for

LICENCE = "Licence Ouverte / Open Licence 2.0 (Etalab)"
CHUNK_ROWS = 20000
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


def _layer_options(part: ExportPart, driver: str) -> dict[str, Any]:
    """Title and description (gpkg_contents) and the metadata record (gpkg_metadata)."""
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    options: dict[str, Any] = {"layer_metadata": _layer_metadata(part, stamp)}
    if driver == "GPKG":
        options["layer_options"] = {
            "IDENTIFIER": part.layer.title,
            "DESCRIPTION": part.layer.description or part.layer.title,
        }
    return options


async def write_layers(
    session: AsyncSession,
    parts: Sequence[ExportPart],
    path: Path,
    *,
    driver: str = "GPKG",
    styled: bool = True,
) -> dict[str, int]:
    """Write every part as a layer of a new file at `path`; feature counts by layer.

    GeoPackage: several layers, QGIS styles in `layer_styles`. FlatGeobuf: one layer.
    """
    counts: dict[str, int] = {}
    styles: dict[str, LayerStyle] = {}
    for part in parts:
        gtype = await geometry_type(session, part)
        sql, params = wkb_sql(part.layer, part.flt)
        options = _layer_options(part, driver)
        if driver == "GPKG" and not path.exists():
            options["dataset_options"] = {"VERSION": "1.2"}  # what QGIS 3.x and GDAL 3.x read
        counts[part.name] = await write_layer(
            stream_rows(session, sql, params, chunk=CHUNK_ROWS),
            part.layer,
            path,
            name=part.name,
            driver=driver,
            geometry_type=gtype,
            append=False,
            **options,
        )
        if styled and driver == "GPKG":
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
