"""The signalements layer through the OGC API and the exports (the contract's checks and more).

Reports are filed through Open311 in the test's rolled-back session, so the exports
(which read that session) see them; the OGC API, on its own pool, is checked on schema.
"""

from __future__ import annotations

import csv
import io
import secrets
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import psycopg
from httpx import AsyncClient

from tests.layers.conftest import gdal

REPORTS = [  # lat, long, service_code
    (50.6916, 3.1779, "proprete"),
    (45.7640, 4.8357, "espaces-verts"),
    (48.8356, 2.2412, "eclairage"),
]


def test_ogc_signalements_collection(live_url: str, demo_db: str) -> None:
    base = f"{live_url}/ogc/collections/signalements"
    queryables = httpx.get(f"{base}/queryables", timeout=60).json()["properties"]
    assert {"service_code", "state", "authority", "created_at", "geom"} <= set(queryables)
    assert not {"email", "first_name", "last_name", "geom_3857"} & set(queryables)
    items = httpx.get(f"{base}/items", params={"limit": "5"}, timeout=60).json()
    with psycopg.connect(demo_db) as conn:
        count = conn.execute("SELECT count(*) FROM public_layers.signalements").fetchone()
    assert items["numberMatched"] == (count[0] if count else -1)


async def _file_reports(client: AsyncClient, token: str) -> None:
    for lat, lon, code in REPORTS:
        form = {
            "lat": str(lat),
            "long": str(lon),
            "service_code": code,
            "description": f"Contrôle des exports {token}",
            "email": f"r.{token}@exemple.fr",
            "first_name": f"Prenom{token}",
            "last_name": f"Nom{token}",
        }
        resp = await client.post("/open311/v2/requests.json", data=form)
        assert resp.status_code in (200, 201), resp.text


async def test_signalements_exports_filters_styles_and_privacy(
    client: AsyncClient, tmp_path: Path
) -> None:
    token = secrets.token_hex(5)
    await _file_reports(client, token)
    outputs: dict[str, bytes] = {}
    for ext, sniff in (("geojson", b"FeatureCollection"), ("gpkg", b"SQLite format 3")):
        resp = await client.get(f"/exports/signalements.{ext}")
        assert resp.status_code == 200 and sniff in resp.content[:4096], ext
        outputs[ext] = resp.content
    resp = await client.get("/exports/signalements.csv", params={"service_code": "eclairage"})
    assert resp.status_code == 200 and b"," in resp.content[:4096]
    outputs["csv"] = resp.content
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    assert rows and {r["service_code"] for r in rows} == {"eclairage"}
    ours = [r for r in rows if r["longitude"].startswith("2.2412")]
    assert ours and ours[0]["authority"] == "Grand Paris Seine Ouest" and ours[0]["created_at"]
    for name, content in outputs.items():
        assert token.encode() not in content, name  # neither the e-mail nor the names
    path = tmp_path / "s.gpkg"
    path.write_bytes(outputs["gpkg"])
    info = gdal("ogrinfo", "-ro", "-al", "-so", str(path))
    assert "Geometry: Point" in info and "created_at: DateTime" in info
    assert "geom_3857" not in info
    with sqlite3.connect(path) as db:
        [qml] = [r[0] for r in db.execute("SELECT styleQML FROM layer_styles")]
    db.close()
    renderer = ET.fromstring(qml.split("\n", 1)[1]).find("renderer-v2")  # noqa: S314
    assert renderer is not None and renderer.get("attr") == "service_code"
    labels = {c.get("value"): c.get("label") for c in renderer.findall("categories/category")}
    assert labels["eclairage"] == "Éclairage public"
    assert {"proprete", "espaces-verts"} <= set(labels)
