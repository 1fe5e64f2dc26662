"""Exports of public layers: the format registry, layer bundles, files for the CLI.

Formats are data (`FORMATS`): GeoJSON and CSV stream straight to the client; GeoPackage
and FlatGeobuf are written to a temporary file first (in chunks), then streamed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import anyio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from carto.db import with_driver
from carto.errors import InvalidInput, NotFound
from carto.layers.catalog import Layer, load_layers
from carto.layers.exports import csv_chunks, geojson_chunks
from carto.layers.filters import LayerFilter, parse_filter
from carto.layers.gpkg import ExportPart, write_layers
from carto.registry import Registry

Streamer = Callable[[AsyncSession, Layer, LayerFilter], AsyncIterator[bytes]]


@dataclass(frozen=True)
class Format:
    """An export format: its media type, and how it is produced (streamed or via a file)."""

    extension: str
    media_type: str
    streamer: Streamer | None = None


FORMATS: Registry[Format] = Registry(
    "format d'export",
    (
        ("geojson", Format("geojson", "application/geo+json", geojson_chunks)),
        ("csv", Format("csv", "text/csv; charset=utf-8", csv_chunks)),
        ("gpkg", Format("gpkg", "application/geopackage+sqlite3")),
        ("fgb", Format("fgb", "application/vnd.flatgeobuf")),
    ),
)

RELATED: dict[str, tuple[tuple[str, str, str], ...]] = {
    # filter on the main layer -> (view, its column holding the same value, name in the file)
    "concertation": (
        ("concertations", "slug", "perimetre"),
        ("reference_features", "concertation", "couches_de_reference"),
    ),
}
"""The layers that travel with a filtered layer in a GeoPackage (a concertation's perimeter
and reference layers go with its contributions)."""


def export_format(extension: str) -> Format:
    try:
        return FORMATS[extension.lower()]
    except KeyError:
        known = ", ".join(f".{e}" for e in FORMATS)
        message = f"Format d'export inconnu : .{extension[:10]} (formats : {known})."
        raise NotFound(message) from None


async def resolve(
    session: AsyncSession, layer_name: str, params: Mapping[str, str]
) -> tuple[Layer, LayerFilter, dict[str, Layer]]:
    """The public layer named `layer_name` and the filter `params` describe."""
    catalog = await load_layers(session)
    layer = catalog.get(layer_name)
    if layer is None:
        known = ", ".join(sorted(catalog))
        raise NotFound(f"Couche inconnue : {layer_name[:60]} (couches : {known}).")
    return layer, parse_filter(layer, params), catalog


def bundle(layer: Layer, flt: LayerFilter, catalog: Mapping[str, Layer]) -> list[ExportPart]:
    """The main layer, plus the related layers its filter calls for (see RELATED)."""
    parts = [ExportPart(layer, flt, layer.name)]
    for key, value in flt.equals.items():
        for view, column, name in RELATED.get(key, ()):
            related = catalog.get(view)
            if related is not None and related.column(column) is not None and view != layer.name:
                parts.append(ExportPart(related, LayerFilter(equals={column: value}), name))
    return parts


async def concertation_exists(session: AsyncSession, slug: str) -> None:
    """NotFound unless `slug` is a public concertation."""
    catalog = await load_layers(session)
    if "concertations" not in catalog:
        raise NotFound("Aucune concertation publiée.")
    found = await session.execute(
        text("SELECT 1 FROM public_layers.concertations WHERE slug = :slug"), {"slug": slug}
    )
    if found.first() is None:
        raise NotFound(f"Concertation inconnue : {slug[:80]}.")


async def write_file(
    session: AsyncSession, parts: list[ExportPart], fmt: Format, target: Path
) -> dict[str, int]:
    """Write `parts` to `target` in `fmt`; feature counts by layer."""
    if fmt.streamer is not None:
        if len(parts) > 1:
            raise InvalidInput("Ce format ne contient qu'une couche : choisissez .gpkg.")
        part = parts[0]
        async with await anyio.open_file(target, "wb") as out:
            async for chunk in fmt.streamer(session, part.layer, part.flt):
                await out.write(chunk)
        return {part.name: -1}
    driver = "GPKG" if fmt.extension == "gpkg" else "FlatGeobuf"
    return await write_layers(
        session, parts if driver == "GPKG" else parts[:1], target, driver=driver
    )


async def export_to_path(
    url: str, layer_name: str, target: Path, params: Mapping[str, str]
) -> dict[str, int]:
    """`carto export`: the layer (format from the file's extension) into `target`."""
    fmt = export_format(target.suffix.lstrip("."))
    engine = create_async_engine(with_driver(url, "psycopg"))
    try:
        async with AsyncSession(engine) as session:
            layer, flt, catalog = await resolve(session, layer_name, params)
            parts = (
                bundle(layer, flt, catalog)
                if fmt.extension == "gpkg"
                else [ExportPart(layer, flt, layer.name)]
            )
            if target.exists():
                target.unlink()
            return await write_file(session, parts, fmt, target)
    finally:
        await engine.dispose()
