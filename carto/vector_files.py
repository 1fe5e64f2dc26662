"""Reading vector files (GeoJSON, GeoPackage, Shapefile, FlatGeobuf...) into EPSG:4326.

One path for every import: territories now, concertation reference layers later.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio

from carto.errors import ImportFailed

SUPPORTED_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".fgb", ".zip", ".gml", ".kml"}


def read_vector_file(path: Path, *, layer: str | None = None) -> gpd.GeoDataFrame:
    """The features of `path` in lon/lat (EPSG:4326), whatever CRS the file declares."""
    if not path.exists():
        raise ImportFailed(f"fichier introuvable : {path}")
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise ImportFailed(
            f"format non reconnu ({path.suffix}) ; "
            f"attendu : {', '.join(sorted(SUPPORTED_SUFFIXES))}"
        )
    try:
        frame = pyogrio.read_dataframe(path, layer=layer)
    except Exception as exc:  # pyogrio raises several error types for unreadable data
        raise ImportFailed(f"lecture impossible de {path.name} : {exc}") from exc
    if frame.crs is None:
        frame = frame.set_crs(4326)
    elif frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    frame.columns = [str(c) for c in frame.columns]
    return frame
