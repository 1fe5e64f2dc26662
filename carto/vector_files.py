"""Reading vector files (GeoJSON, GeoPackage, Shapefile, FlatGeobuf...) into EPSG:4326.

One path for every import: territories now, concertation reference layers later.
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

import geopandas as gpd
import pyogrio

from carto.errors import ImportFailed

SUPPORTED_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".fgb", ".zip", ".gml", ".kml"}
# GDAL picks a driver from the content, not the name: a ".geojson" upload holding an
# <OGRVRTDataSource> makes the VRT driver read any file the server can (e.g. /etc/passwd
# through the CSV driver and an SQLite-dialect SrcSQL), which would then be published as
# a reference layer. Only the drivers of the formats we accept may open an upload.
ALLOWED_DRIVERS = {
    "GeoJSON", "GeoJSONSeq", "GPKG", "ESRI Shapefile", "FlatGeobuf", "GML", "KML", "LIBKML",
}  # fmt: skip
# Members a zipped Shapefile (or a zipped single file of an accepted format) may hold.
ZIP_MEMBER_SUFFIXES = {
    ".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".xml", ".qmd", ".txt",
    ".geojson", ".json", ".gpkg", ".fgb", ".gml", ".kml",
}  # fmt: skip
MAX_UNZIPPED_BYTES = 512 * 2**20


def _check_zip(path: Path) -> None:
    """A zip holds only files of the accepted formats, no nested archive or VRT, and
    does not inflate past MAX_UNZIPPED_BYTES (zip bomb)."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportFailed(f"archive zip illisible : {path.name}") from exc
    total = 0
    for member in members:
        suffix = PurePosixPath(member.filename).suffix.lower()
        if suffix not in ZIP_MEMBER_SUFFIXES:
            raise ImportFailed(
                f"l'archive contient un fichier refusé ({suffix or 'sans extension'}) ; "
                "attendu : un Shapefile ou un fichier GeoJSON, GeoPackage, FlatGeobuf, GML, KML"
            )
        total += member.file_size
    if total > MAX_UNZIPPED_BYTES:
        raise ImportFailed(f"archive trop volumineuse une fois décompressée : {path.name}")


def _check_driver(path: Path, layer: str | None) -> None:
    """Refuse content that an accepted suffix does not announce (VRT, SQLite, CSV...)."""
    with path.open("rb") as head:
        start = head.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    if b"<OGRVRTDataSource" in start or b"<VRTDataset" in start:
        raise ImportFailed(f"format non reconnu : {path.name} est un fichier VRT")
    if path.suffix.lower() == ".zip":
        _check_zip(path)
    try:
        driver = pyogrio.read_info(path, layer=layer).get("driver")
    except Exception as exc:  # pyogrio raises several error types for unreadable data
        raise ImportFailed(f"lecture impossible de {path.name} : {exc}") from exc
    if driver not in ALLOWED_DRIVERS:
        raise ImportFailed(f"format non reconnu : {path.name} est lu comme {driver}")


def read_vector_file(path: Path, *, layer: str | None = None) -> gpd.GeoDataFrame:
    """The features of `path` in lon/lat (EPSG:4326), whatever CRS the file declares."""
    if not path.exists():
        raise ImportFailed(f"fichier introuvable : {path}")
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise ImportFailed(
            f"format non reconnu ({path.suffix}) ; "
            f"attendu : {', '.join(sorted(SUPPORTED_SUFFIXES))}"
        )
    _check_driver(path, layer)
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
