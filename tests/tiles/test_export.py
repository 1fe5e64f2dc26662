"""`carto tiles export`: a PMTiles archive whose tiles are the server's tiles."""

from __future__ import annotations

import gzip

import mapbox_vector_tile
import pytest
from pmtiles.reader import MmapSource, Reader, all_tiles
from pmtiles.tile import Compression, TileType

from carto.errors import InvalidInput
from carto.tiles.export import export_pmtiles_sync


def test_export_communes_pmtiles(demo_db, tmp_path):
    path = tmp_path / "communes.pmtiles"
    report = export_pmtiles_sync(demo_db, "communes", path, minzoom=0, maxzoom=9)
    assert report.tiles > 9 and path.stat().st_size == report.bytes
    with path.open("rb") as fh:
        reader = Reader(MmapSource(fh))
        header = reader.header()
        assert header["tile_type"] == TileType.MVT
        assert header["tile_compression"] == Compression.GZIP
        assert (header["min_zoom"], header["max_zoom"]) == (0, 9)
        assert reader.metadata()["vector_layers"][0]["id"] == "communes"
        tiles = dict(all_tiles(reader.get_bytes))
    assert len(tiles) == report.tiles
    # z9 tile of Lille
    names = {
        f["properties"]["nom"]
        for f in mapbox_vector_tile.decode(gzip.decompress(tiles[(9, 260, 172)]))["communes"][
            "features"
        ]
    }
    assert "Lille" in names and "Roubaix" in names


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("x.mbtiles", {}),
        ("x.pmtiles", {"maxzoom": 30}),
        ("x.pmtiles", {"minzoom": 5, "maxzoom": 2}),
    ],
)
def test_export_refuses_bad_requests(demo_db, tmp_path, name, kwargs):
    with pytest.raises(InvalidInput):
        export_pmtiles_sync(demo_db, "communes", tmp_path / name, **kwargs)
