"""/exports: GeoJSON (RFC 7946), CSV, GeoPackage styled for QGIS, FlatGeobuf; `carto export`."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import shapely
from httpx import AsyncClient
from typer.testing import CliRunner

from tests.layers.conftest import gdal


async def test_geojson_is_rfc7946(client: AsyncClient) -> None:
    resp = await client.get("/exports/communes.geojson")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/geo+json")
    assert 'filename="communes.geojson"' in resp.headers["content-disposition"]
    body = resp.json()
    assert body["type"] == "FeatureCollection" and "crs" not in body
    assert len(body["features"]) == 161
    roubaix = next(f for f in body["features"] if f["id"] == "59512")
    assert roubaix["properties"]["nom"] == "Roubaix"
    shape = shapely.geometry.shape(roubaix["geometry"])
    assert 3.1 < shape.centroid.x < 3.3 and 50.6 < shape.centroid.y < 50.8  # lon, then lat
    assert all(shapely.is_ccw(p.exterior) for p in shape.geoms)  # right-hand rule


async def test_csv_has_coordinates_and_wkt(client: AsyncClient, tmp_path: Path) -> None:
    resp = await client.get("/exports/communes.csv", params={"nom": "Lyon"})
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    assert [r["insee"] for r in rows] == ["69123"]
    lyon = rows[0]
    point = shapely.Point(float(lyon["longitude"]), float(lyon["latitude"]))
    assert shapely.from_wkt(lyon["wkt"]).contains(point)
    assert 4.7 < point.x < 4.95 and 45.7 < point.y < 45.85
    path = tmp_path / "lyon.csv"
    path.write_bytes(resp.content)
    info = gdal("ogrinfo", "-ro", "-al", "-so", "-oo", "GEOM_POSSIBLE_NAMES=wkt", str(path))
    assert "Feature Count: 1" in info
    assert "Extent: (4.77" in info  # GDAL read the WKT column as the geometry


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"nom": "Roubaix"}, {"59512"}),
        ({"bbox": "3.17,50.68,3.19,50.70", "nom": "Roubaix"}, {"59512"}),
        ({"bbox": "4.80,45.74,4.86,45.78"}, {"69123"}),
        ({"departement": "69", "nom": "Lyon"}, {"69123"}),
        ({"datetime": "../2000-01-01"}, set()),
    ],
)
async def test_filters_match_the_ogc_items(
    client: AsyncClient, params: dict[str, str], expected: set[str]
) -> None:
    resp = await client.get("/exports/communes.geojson", params=params)
    assert resp.status_code == 200, resp.text
    ids = {f["id"] for f in resp.json()["features"]}
    if expected:
        assert expected <= ids and len(ids) < 10
    else:
        assert ids == set()


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/exports/communes.geojson", {"bbox": "1,2"}, 422),
        ("/exports/communes.geojson", {"bbox": "0,0,200,1"}, 422),
        ("/exports/communes.csv", {"population": "beaucoup"}, 422),
        ("/exports/communes.csv", {"datetime": "hier"}, 422),
        ("/exports/communes.gpkg", {"email": "x@y.fr"}, 422),
        ("/exports/app_user.geojson", {}, 404),
        ("/exports/communes.shp", {}, 404),
    ],
)
async def test_bad_requests_are_french_4xx(
    client: AsyncClient, path: str, params: dict[str, str], status: int
) -> None:
    resp = await client.get(path, params=params)
    assert resp.status_code == status, resp.text
    assert resp.json()["message"]


async def test_geopackage_is_styled_and_described(client: AsyncClient, tmp_path: Path) -> None:
    resp = await client.get("/exports/communes.gpkg")
    assert resp.status_code == 200 and resp.content[:16] == b"SQLite format 3\x00"
    path = tmp_path / "communes.gpkg"
    path.write_bytes(resp.content)
    info = gdal("ogrinfo", "-ro", "-al", "-so", str(path))
    assert "Feature Count: 161" in info and "population: Integer64" in info
    assert "LICENSE=Licence Ouverte" in info
    with sqlite3.connect(path) as db:
        styles = db.execute(
            "SELECT f_table_name, f_geometry_column, styleQML, useAsDefault FROM layer_styles"
        ).fetchall()
        contents = dict(db.execute("SELECT table_name, identifier FROM gpkg_contents"))
        metadata = " ".join(r[0] for r in db.execute("SELECT metadata FROM gpkg_metadata"))
    db.close()
    assert contents["communes"] == "Communes" and contents["layer_styles"] == "layer_styles"
    assert "Etalab" in metadata and "DATE" in metadata
    [(table, geom_column, qml, default)] = styles
    assert (table, geom_column, default) == ("communes", "geom", 1)
    root = ET.fromstring(qml.split("\n", 1)[1])  # noqa: S314 - our own output
    assert root.tag == "qgis" and root.get("labelsEnabled") == "1"
    assert root.find("renderer-v2").get("type") == "singleSymbol"  # type: ignore[union-attr]
    assert root.find("labeling/settings/text-style").get("fieldName") == "nom"  # type: ignore[union-attr]


async def test_flatgeobuf_export(client: AsyncClient, tmp_path: Path) -> None:
    resp = await client.get("/exports/intercommunalites.fgb")
    assert resp.status_code == 200 and resp.content[:3] == b"fgb"
    path = tmp_path / "epci.fgb"
    path.write_bytes(resp.content)
    info = gdal("ogrinfo", "-ro", "-al", "-so", str(path))
    assert re.search(r"Feature Count: 3\b", info) and "nom: String" in info


def test_cli_export_every_format(
    demo_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from carto.cli import app
    from carto.settings import get_settings

    monkeypatch.setenv("CARTO_DATABASE_URL", demo_db)
    get_settings.cache_clear()
    try:
        for ext in ("gpkg", "geojson", "csv", "fgb"):
            target = tmp_path / f"communes.{ext}"
            args = ["export", "communes", str(target), "--filtre", "departement=69"]
            result = CliRunner().invoke(app, args)
            assert result.exit_code == 0, result.output
            info = gdal(
                "ogrinfo", "-ro", "-al", "-so", "-oo", "GEOM_POSSIBLE_NAMES=wkt", f"{target}"
            )
            count = int(re.search(r"Feature Count: (\d+)", info).group(1))  # type: ignore[union-attr]
            assert 50 < count < 70, (ext, count)  # the Métropole de Lyon's communes
        bad = CliRunner().invoke(app, ["export", "nulle_part", str(tmp_path / "x.gpkg")])
        assert bad.exit_code == 2 and "Couche inconnue" in bad.output
    finally:
        get_settings.cache_clear()
    assert json.loads((tmp_path / "communes.geojson").read_text())["type"] == "FeatureCollection"
