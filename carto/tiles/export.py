"""Static copies of a tile layer: one PMTiles archive an edge cache or a phone can serve.

Tiles are rendered by the same statements as the server (`service.render_tile`),
walking the quadtree from z0 and descending only under non-empty tiles, so an
export costs what the data covers, not the bounding box of the deployment.
"""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import Writer

from carto.db import make_async_engine, make_sessionmaker
from carto.errors import InvalidInput
from carto.tiles.db import SessionTileDB, TileDB
from carto.tiles.filters import TileFilters
from carto.tiles.grid import TileRequest
from carto.tiles.layers import TileLayer, get_layer
from carto.tiles.service import render_tile
from carto.tiles.tilejson import deployment_extent, tilejson

Progress = Callable[[int, int], None]  # (zoom, tiles written so far)


@dataclass
class ExportReport:
    layer: str
    path: Path
    tiles: int
    bytes: int
    minzoom: int
    maxzoom: int


def _e7(value: float) -> int:
    return int(round(value * 10_000_000))


async def _collect(
    db: TileDB, layer: TileLayer, minzoom: int, maxzoom: int, progress: Progress | None
) -> dict[int, bytes]:
    found: dict[int, bytes] = {}
    frontier = [TileRequest(0, 0, 0)]
    for z in range(0, maxzoom + 1):
        next_frontier: list[TileRequest] = []
        for tile in frontier:
            body, _snapshot, _mode = await render_tile(db, layer, tile, TileFilters())
            if not body:
                continue
            if z >= minzoom:
                found[zxy_to_tileid(z, tile.x, tile.y)] = gzip.compress(body, mtime=0)
            next_frontier.extend(
                TileRequest(z + 1, 2 * tile.x + dx, 2 * tile.y + dy)
                for dy in (0, 1)
                for dx in (0, 1)
            )
        frontier = next_frontier
        if progress:
            progress(z, len(found))
    return found


def _write(
    path: Path, layer: TileLayer, tiles: dict[int, bytes], meta: dict[str, Any], minzoom: int
) -> None:
    west, south, east, north = meta["bounds"]
    with path.open("wb") as fh:
        writer = Writer(fh)
        for tile_id in sorted(tiles):
            writer.write_tile(tile_id, tiles[tile_id])
        header = {
            "tile_type": TileType.MVT,
            "tile_compression": Compression.GZIP,
            "min_lon_e7": _e7(west),
            "min_lat_e7": _e7(south),
            "max_lon_e7": _e7(east),
            "max_lat_e7": _e7(north),
            "center_zoom": minzoom,
            "center_lon_e7": _e7((west + east) / 2),
            "center_lat_e7": _e7((south + north) / 2),
        }
        metadata = {
            "name": layer.name,
            "description": layer.description,
            "attribution": meta["attribution"],
            "vector_layers": meta["vector_layers"],
        }
        writer.finalize(header, metadata)


async def export_pmtiles(
    url: str,
    layer_name: str,
    path: Path,
    *,
    minzoom: int = 0,
    maxzoom: int = 14,
    progress: Progress | None = None,
) -> ExportReport:
    """Write `layer_name`'s non-empty tiles from `minzoom` to `maxzoom` into a PMTiles file."""
    layer = get_layer(layer_name)
    if path.suffix.lower() != ".pmtiles":
        raise InvalidInput("Format d'export : fichier .pmtiles attendu.")
    if not 0 <= minzoom <= maxzoom <= min(layer.maxzoom, 16):
        raise InvalidInput(f"Zooms attendus : 0 ≤ minzoom ≤ maxzoom ≤ {min(layer.maxzoom, 16)}.")
    engine = make_async_engine(url, pool_size=1, max_overflow=0)
    try:
        async with make_sessionmaker(engine)() as session:
            db = SessionTileDB(session)
            tiles = await _collect(db, layer, minzoom, maxzoom, progress)
            bounds, centre = await deployment_extent(db)
    finally:
        await engine.dispose()
    if not tiles:
        raise InvalidInput(f"La couche « {layer_name} » est vide : rien à exporter.")
    meta = tilejson(layer, base_url="", bounds=bounds, centre=centre, query={})
    path.parent.mkdir(parents=True, exist_ok=True)
    _write(path, layer, tiles, meta, minzoom)
    return ExportReport(layer_name, path, len(tiles), path.stat().st_size, minzoom, maxzoom)


def export_pmtiles_sync(
    url: str,
    layer_name: str,
    path: Path,
    *,
    minzoom: int = 0,
    maxzoom: int = 14,
    progress: Progress | None = None,
) -> ExportReport:
    """`export_pmtiles` for the CLI."""
    return asyncio.run(
        export_pmtiles(url, layer_name, path, minzoom=minzoom, maxzoom=maxzoom, progress=progress)
    )
