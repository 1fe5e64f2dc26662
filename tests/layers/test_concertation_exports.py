"""A concertation's GeoPackage (contributions, perimeter, reference layers) and QGIS project."""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import psycopg
import pytest
from httpx import AsyncClient

from tests.layers.conftest import gdal

SLUG = "planter-un-arbre-a-lyon"


def _contributions(db_url: str, slug: str) -> int:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM public_layers.contributions WHERE concertation = %s", (slug,)
        ).fetchone()
    return int(row[0]) if row else 0


async def test_concertation_geopackage_has_its_layers_styled(
    client: AsyncClient, demo_db: str, tmp_path: Path
) -> None:
    resp = await client.get(f"/exports/concertations/{SLUG}.gpkg")
    assert resp.status_code == 200, resp.text
    path = tmp_path / "c.gpkg"
    path.write_bytes(resp.content)
    info = gdal("ogrinfo", "-ro", "-al", "-so", str(path))
    expected = _contributions(demo_db, SLUG)
    assert expected > 0
    assert "Layer name: contributions\n" in info
    assert f"Feature Count: {expected}" in info
    assert "Layer name: perimetre" in info and "Multi Polygon" in info
    with sqlite3.connect(path) as db:
        tables = {r[0] for r in db.execute("SELECT table_name FROM gpkg_contents")}
        styles = dict(db.execute("SELECT f_table_name, styleQML FROM layer_styles"))
        slugs = {r[0] for r in db.execute("SELECT DISTINCT concertation FROM contributions")}
    db.close()
    assert {"contributions", "perimetre"} <= tables and slugs == {SLUG}
    assert set(styles) == tables - {"layer_styles"}
    root = ET.fromstring(styles["contributions"].split("\n", 1)[1])  # noqa: S314
    renderer = root.find("renderer-v2")
    assert renderer is not None and renderer.get("type") == "categorizedSymbol"
    assert renderer.get("attr") == "theme" and renderer.findall("categories/category")
    assert root.find("labeling/settings/text-style").get("fieldName") == "title"  # type: ignore[union-attr]


async def test_contributions_export_filtered_by_concertation(
    client: AsyncClient, demo_db: str
) -> None:
    resp = await client.get("/exports/contributions.geojson", params={"concertation": SLUG})
    features = resp.json()["features"]
    assert len(features) == _contributions(demo_db, SLUG)
    props = features[0]["properties"]
    assert {
        "concertation",
        "theme",
        "kind",
        "title",
        "votes_for",
        "votes_against",
        "answer",
    } <= set(props)
    assert all(f["geometry"]["type"] in {"Point", "LineString", "Polygon"} for f in features)


async def test_unknown_concertation_is_404(client: AsyncClient) -> None:
    for ext in ("gpkg", "qgs", "qgz"):
        resp = await client.get(f"/exports/concertations/nulle-part.{ext}")
        assert resp.status_code == 404 and "Concertation inconnue" in resp.json()["message"]


@pytest.mark.parametrize("slug", [SLUG, "plu-de-la-mel"])
def test_qgis_project_points_at_live_services(live_url: str, slug: str) -> None:
    resp = httpx.get(f"{live_url}/exports/concertations/{slug}.qgs", timeout=60)
    assert resp.status_code == 200 and resp.text.startswith("<!DOCTYPE qgis")
    root = ET.fromstring(resp.text.split("\n", 1)[1])  # noqa: S314
    maps = {m.findtext("layername"): m for m in root.findall("projectlayers/maplayer")}
    contributions = maps["Contributions"]
    assert contributions.findtext("provider") == "OAPIF"
    source = contributions.findtext("datasource") or ""
    assert f"url='{live_url}/ogc?concertation={slug}'" in source
    assert contributions.find("renderer-v2") is not None
    tiles = maps["Contributions (tuiles vectorielles)"]
    assert tiles.get("type") == "vector-tile"
    tile_url = unquote(
        parse_qs((tiles.findtext("datasource") or "").replace("type=xyz&", ""))["url"][0]
    )
    assert tile_url.startswith(f"{live_url}/tiles/contributions/{{z}}/{{x}}/{{y}}.mvt")
    assert parse_qs(urlsplit(tile_url).query) == {"concertation": [slug]}
    # What QGIS will ask the OGC API for answers with this concertation's contributions only.
    items = httpx.get(
        f"{live_url}/ogc/collections/contributions/items",
        params={"concertation": slug, "limit": "1000"},
        timeout=60,
    ).json()
    assert items["features"] and {f["properties"]["concertation"] for f in items["features"]} == {
        slug
    }
