"""The concertation exports opened by real QGIS (Debian's python3-qgis, offscreen under
xvfb-run): every layer valid with a valid CRS, the right counts, symbols matching the
geometries, and pixels drawn on the perimeter."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

CHECK = Path(__file__).with_name("qgis_check.py")
SLUGS = ("planter-un-arbre-a-lyon", "plu-de-la-mel")
SYMBOL = {"POINT": "marker", "LINESTRING": "line", "POLYGON": "fill", "MULTIPOLYGON": "fill"}
SUFFIX = {"marker": " (points)", "line": " (lignes)", "fill": " (surfaces)"}


def _expected(db_url: str, slug: str) -> list[tuple[str, str, int]]:
    """(legend name, symbol kind, feature count) of each vector layer, top to bottom."""
    out = []
    with psycopg.connect(db_url) as conn:
        for view, column, name in (
            ("contributions", "concertation", "Contributions"),
            ("reference_features", "concertation", "Couches de référence"),
            ("concertations", "slug", "Périmètre"),
        ):
            rows = conn.execute(
                f"SELECT GeometryType(geom), count(*) FROM public_layers.{view}"
                f" WHERE {column} = %s GROUP BY 1",
                (slug,),
            ).fetchall()
            kinds: dict[str, int] = {}
            for gtype, count in rows:
                kinds[SYMBOL[gtype]] = kinds.get(SYMBOL[gtype], 0) + count
            for kind in ("marker", "line", "fill"):
                if kind in kinds:
                    label = name + (SUFFIX[kind] if len(kinds) > 1 else "")
                    out.append((label, kind, kinds[kind]))
    return out


def _perimeter_2154(db_url: str, slug: str) -> tuple[float, ...]:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT"
            " ST_Extent(ST_Transform(geom, 2154)) e FROM public_layers.concertations"
            " WHERE slug = %s) s",
            (slug,),
        ).fetchone()
    assert row is not None
    return tuple(float(v) for v in row)


@pytest.fixture(scope="module")
def qgis_report(live_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One QGIS run over both concertations' .qgs, .qgz and .gpkg."""
    work = tmp_path_factory.mktemp("qgis")
    files = []
    for slug in SLUGS:
        for ext in ("qgs", "qgz", "gpkg"):
            resp = httpx.get(f"{live_url}/exports/concertations/{slug}.{ext}", timeout=60)
            assert resp.status_code == 200, resp.text
            path = work / f"{slug}.{ext}"
            path.write_bytes(resp.content)
            files.append(str(path))
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(work)}
    env.pop("PYTHONPATH", None)  # Debian's python3 with its own PyQGIS, not the venv
    command = ["xvfb-run", "-a", "/usr/bin/python3", str(CHECK), str(work), *files]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


@pytest.mark.parametrize("slug", SLUGS)
def test_project_opens_with_every_layer_in_place(
    qgis_report: dict[str, Any], demo_db: str, slug: str
) -> None:
    project = qgis_report[f"{slug}.qgs"]
    assert (project["crs"], project["crs_valid"]) == ("EPSG:2154", True)
    xmin, ymin, xmax, ymax = _perimeter_2154(demo_db, slug)
    exmin, eymin, exmax, eymax = project["extent"]
    assert exmin < xmin < xmax < exmax and eymin < ymin < ymax < eymax
    assert (exmax - exmin) < 1.3 * max(xmax - xmin, ymax - ymin)  # on the perimeter, not France
    layers = project["layers"]
    assert all(layer["valid"] and layer["crs_valid"] for layer in layers), layers
    vectors = [layer for layer in layers if layer["provider"] == "OAPIF"]
    got = [(layer["name"], layer["symbols"], layer["count"]) for layer in vectors]
    assert got == [(name, [kind], count) for name, kind, count in _expected(demo_db, slug)]
    assert {layer["crs"] for layer in vectors} == {"EPSG:4326"}
    names = [layer["name"] for layer in layers]
    tiles = layers[names.index("Contributions (tuiles vectorielles)")]
    assert tiles["renderer"] == "basic" and not tiles["visible"]  # the same points, opt-in
    assert names.index("Contributions (tuiles vectorielles)") < names.index("Périmètre")
    background = layers[-1]
    assert (background["name"], background["provider"], background["visible"]) == (
        "OpenStreetMap",
        "wms",
        True,
    )
    # Every layer but the background (the test machine has no internet) draws something.
    for layer in layers[:-1]:
        assert layer["pixels"] > 0, layer
    assert project["pixels"] > max(layer["pixels"] for layer in vectors) // 2


@pytest.mark.parametrize("slug", SLUGS)
def test_zipped_project_is_the_same_project(qgis_report: dict[str, Any], slug: str) -> None:
    plain, zipped = qgis_report[f"{slug}.qgs"], qgis_report[f"{slug}.qgz"]
    keys = ("name", "valid", "crs", "provider", "visible", "count", "symbols")
    assert [{k: lyr.get(k) for k in keys} for lyr in zipped["layers"]] == [
        {k: lyr.get(k) for k in keys} for lyr in plain["layers"]
    ]
    assert zipped["crs"] == plain["crs"] and zipped["extent"] == plain["extent"]


@pytest.mark.parametrize("slug", SLUGS)
def test_geopackage_opens_styled(qgis_report: dict[str, Any], demo_db: str, slug: str) -> None:
    layers = {layer["name"]: layer for layer in qgis_report[f"{slug}.gpkg"]["layers"]}
    name, kind, count = _expected(demo_db, slug)[0]
    assert name == "Contributions"
    assert layers["contributions"]["count"] == count
    assert layers["contributions"]["symbols"] == [kind] and layers["contributions"]["pixels"] > 0
    assert layers["perimetre"]["symbols"] == ["fill"] and layers["perimetre"]["pixels"] > 0
    assert all(layer["valid"] and layer["crs"] == "EPSG:4326" for layer in layers.values())
