"""Tile math on the Web Mercator XYZ grid, through morecantile (no projection code here).

The heat grid is the XYZ grid itself: a heat cell at level L is the tile (x, y, L),
so a tile at zoom z holds 2^(L - z) cells per side. Levels HEAT_MIN_LEVEL..HEAT_MAX_LEVEL
are precomputed. The tiles schema's SQL (carto/tiles/sql/) takes these constants from
here when it is applied (carto/tiles/schema.py), so that each is typed once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import morecantile
from morecantile import Tile

from carto.errors import CartoError, NotFound

EXTENT = 4096
BUFFER = 64
HEAT_CELLS_LOG2 = 5  # 32 heat cells per tile side at the zoom whose level is exact
HEAT_MIN_LEVEL = 5
HEAT_MAX_LEVEL = 18
# tiles.rebuild_heat goes through the write path (deltas) when at most one point in this
# many changed, and recomputes the grid otherwise. bench/heat_rebuild.py, 10 M points:
# 1 % changed cost 162 s, a recomputation 984 s (loaded): the write path stays ~3x ahead.
HEAT_INCREMENTAL_SHARE = 50
MAX_ZOOM = 24
# Side of the XYZ grid in EPSG:3857 metres: ST_TileEnvelope(0, 0, 0) and morecantile's
# WebMercatorQuad z0 tile (test_tile_sql checks both).
WORLD_SIZE = 40075016.68557849
# Zoom bands of the simplified polygons (tiles.band): (band, minzoom, maxzoom, simplified).
# A band is simplified to one MVT unit at its maxzoom; the last band is not simplified.
ZOOM_BANDS = ((0, 0, 6, True), (1, 7, 9, True), (2, 10, 12, True), (3, 13, 30, False))

__all__ = ["Tile", "TileRequest", "check_tile", "tiles_touching", "mercator_tms"]


class BadTile(CartoError):
    """z/x/y outside the grid: a clear 404, never a 500."""

    status_code = 404
    code = "tile_out_of_range"


@lru_cache(maxsize=1)
def mercator_tms() -> morecantile.TileMatrixSet:
    return morecantile.tms.get("WebMercatorQuad")


@dataclass(frozen=True)
class TileRequest:
    """A validated tile address."""

    z: int
    x: int
    y: int

    @property
    def tile(self) -> Tile:
        return Tile(self.x, self.y, self.z)


def check_tile(z: int, x: int, y: int, *, minzoom: int = 0, maxzoom: int = MAX_ZOOM) -> TileRequest:
    """The tile, or `BadTile` when z/x/y is not on the grid or outside the layer's zooms."""
    if not 0 <= z <= MAX_ZOOM:
        raise BadTile(f"Niveau de zoom {z} hors de la grille (0 à {MAX_ZOOM}).")
    side = 1 << z
    if not (0 <= x < side and 0 <= y < side):
        raise BadTile(f"Tuile {z}/{x}/{y} hors de la grille : x et y vont de 0 à {side - 1}.")
    if not minzoom <= z <= maxzoom:
        raise NotFound(f"Cette couche est servie du zoom {minzoom} au zoom {maxzoom}.")
    return TileRequest(z, x, y)


def tiles_touching(
    lon: float, lat: float, zooms: Iterable[int], *, buffer: int = BUFFER
) -> list[Tile]:
    """Every tile whose envelope, grown by the MVT buffer, holds the point (lon, lat).

    These are the tiles whose content a feature at this point changes; the cache
    triggers in SQL delete exactly this set.
    """
    tms = mercator_tms()
    px, py = tms.xy(lon, lat)
    found: list[Tile] = []
    for z in zooms:
        centre = tms.tile(lon, lat, z)
        side = 1 << z
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                tx, ty = centre.x + dx, centre.y + dy
                if not (0 <= tx < side and 0 <= ty < side):
                    continue
                box = tms.xy_bounds(Tile(tx, ty, z))
                m = (box.right - box.left) * buffer / EXTENT
                if box.left - m <= px <= box.right + m and box.bottom - m <= py <= box.top + m:
                    found.append(Tile(tx, ty, z))
    return found


@dataclass(frozen=True)
class CellWindow:
    """The heat cells a tile needs: `level`, the tile's cells [cx0, cx0+n) x [cy0, cy0+n),
    and `margin` more cells on every side (read so that smoothing has no seams)."""

    level: int
    cx0: int
    cy0: int
    n: int
    margin: int

    @property
    def bounds(self) -> tuple[int, int, int, int]:
        """(cx_min, cy_min, cx_max, cy_max) inclusive, margin included."""
        return (
            self.cx0 - self.margin,
            self.cy0 - self.margin,
            self.cx0 + self.n - 1 + self.margin,
            self.cy0 + self.n - 1 + self.margin,
        )


def cell_window(tile: TileRequest, *, margin: int) -> CellWindow:
    """The heat cells of `tile`: level z+5 while precomputed, else the finest level."""
    level = min(tile.z + HEAT_CELLS_LOG2, HEAT_MAX_LEVEL)
    shift = level - tile.z
    if shift < 0:
        raise BadTile("Zoom trop élevé pour la grille de densité.")
    return CellWindow(level, tile.x << shift, tile.y << shift, 1 << shift, margin)
