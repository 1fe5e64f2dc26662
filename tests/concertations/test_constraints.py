"""Constraint layers reject or flag a contribution and name the reason; distances are metres."""

from __future__ import annotations

import json

import pytest
from pyproj import Geod
from sqlalchemy import text

from tests.concertations.conftest import LILLE, count, feature
from tests.conftest import login

GEOD = Geod(ellps="WGS84")


def east_of(lon: float, lat: float, metres: float) -> tuple[float, float]:
    """The point `metres` east of (lon, lat) on the WGS84 ellipsoid."""
    x, y, _ = GEOD.fwd(lon, lat, 90, metres)
    return x, y


async def _tree_concertation(client):
    items = (await client.get("/api/v1/concertations")).json()
    return next(c for c in items if c["slug"] == "planter-un-arbre-a-lyon")


async def test_demo_layers_are_listed_with_their_rules(client):
    tree = await _tree_concertation(client)
    detail = (await client.get(f"/api/v1/concertations/{tree['slug']}")).json()
    layers = {layer["slug"]: layer for layer in detail["reference_layers"]}
    assert layers["arbres-existants"]["rule"] == "min_distance"
    assert layers["arbres-existants"]["distance_m"] == 5.0
    assert layers["arbres-existants"]["features"] == 400
    assert layers["batiments"]["rule"] == "no_overlap"
    features = await client.get(f"/api/v1/reference-layers/{layers['batiments']['id']}/features")
    assert features.status_code == 200
    assert len(features.json()["features"]) == 6
    assert features.json()["features"][0]["geometry"]["type"] == "Polygon"


async def test_too_close_to_a_tree_is_rejected_with_the_distance(client, session):
    tree = await _tree_concertation(client)
    row = (
        await session.execute(
            text(
                "SELECT ST_X(f.geom) AS lon, ST_Y(f.geom) AS lat FROM reference_feature f "
                "JOIN reference_layer l ON l.id = f.layer_id "
                "WHERE l.slug = 'arbres-existants' ORDER BY f.id LIMIT 1"
            )
        )
    ).one()
    headers = await login(client, "citoyen@demo.local")
    url = f"/api/v1/concertations/{tree['id']}/contributions"
    close = await client.post(
        url, json=feature(*east_of(row.lon, row.lat, 3.0), theme="rues"), headers=headers
    )
    assert close.status_code == 422
    body = close.json()
    assert body["error"] == "constraint_violated"
    assert body["reasons"][0]["layer"] == "arbres-existants"
    assert "moins de 5 m" in body["message"] and "distance : 3.0 m" in body["message"]


async def test_on_a_building_is_rejected(client, session):
    tree = await _tree_concertation(client)
    centre = (
        await session.execute(
            text(
                "SELECT ST_X(ST_Centroid(f.geom)) AS lon, ST_Y(ST_Centroid(f.geom)) AS lat "
                "FROM reference_feature f JOIN reference_layer l ON l.id = f.layer_id "
                "WHERE l.slug = 'batiments' ORDER BY f.id LIMIT 1"
            )
        )
    ).one()
    headers = await login(client, "citoyen@demo.local")
    resp = await client.post(
        f"/api/v1/concertations/{tree['id']}/contributions",
        json=feature(centre.lon, centre.lat, theme="rues"),
        headers=headers,
    )
    assert resp.status_code == 422
    assert resp.json()["message"] == "Impossible de planter sur l'emprise d'un bâtiment."


async def test_uploaded_layer_measures_true_metres_and_can_flag(client, make_concertation, session):
    k = await make_concertation(slug="t-trees")
    admin = await login(client, "admin@demo.local")
    trees = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"essence": "Tilleul"},
                "geometry": {"type": "Point", "coordinates": list(LILLE)},
            }
        ],
    }
    upload = await client.post(
        f"/api/v1/concertations/{k.id}/reference-layers",
        files={"file": ("arbres.geojson", json.dumps(trees).encode(), "application/geo+json")},
        data={
            "title": "Arbres",
            "role": "constraint",
            "rule": "min_distance",
            "distance_m": "10",
            "action": "reject",
        },
        headers=admin,
    )
    assert upload.status_code == 201, upload.text
    assert upload.json()["features"] == 1
    citizen = await login(client, "citoyen@demo.local")
    url = f"/api/v1/concertations/{k.id}/contributions"
    near = await client.post(url, json=feature(*east_of(*LILLE, 9.5)), headers=citizen)
    assert near.status_code == 422 and "distance : 9.5 m ; minimum : 10 m" in near.json()["message"]
    far = await client.post(url, json=feature(*east_of(*LILLE, 10.5)), headers=citizen)
    assert far.status_code == 201, far.text
    # Re-upload the same slug as a flagging layer: the contribution is kept with a note.
    again = await client.post(
        f"/api/v1/concertations/{k.id}/reference-layers",
        files={"file": ("arbres.geojson", json.dumps(trees).encode(), "application/geo+json")},
        data={
            "title": "Arbres",
            "slug": upload.json()["slug"],
            "role": "constraint",
            "rule": "min_distance",
            "distance_m": "10",
            "action": "flag",
        },
        headers=admin,
    )
    assert again.status_code == 201
    assert (
        await count(
            session, "SELECT count(*) FROM reference_layer WHERE concertation_id = :k", k=k.id
        )
        == 1
    )
    flagged = await client.post(url, json=feature(*east_of(*LILLE, 2.0)), headers=citizen)
    assert flagged.status_code == 201
    notes = flagged.json()["properties"]["constraint_notes"]
    assert len(notes) == 1 and "couche « Arbres »" in notes[0] and "2.0 m" in notes[0]


async def test_layer_upload_is_for_organiser_admins(client, make_concertation):
    k = await make_concertation(slug="t-upload")
    files = {
        "file": ("x.geojson", b'{"type":"FeatureCollection","features":[]}', "application/json")
    }
    assert (
        await client.post(
            f"/api/v1/concertations/{k.id}/reference-layers", files=files, data={"title": "X"}
        )
    ).status_code == 401
    citizen = await login(client, "citoyen@demo.local")
    refused = await client.post(
        f"/api/v1/concertations/{k.id}/reference-layers",
        files=files,
        data={"title": "X"},
        headers=citizen,
    )
    assert refused.status_code == 403
    admin = await login(client, "admin@demo.local")
    empty = await client.post(
        f"/api/v1/concertations/{k.id}/reference-layers",
        files=files,
        data={"title": "Vide"},
        headers=admin,
    )
    assert empty.status_code == 422 and "aucune géométrie" in empty.json()["message"]
    bad = await client.post(
        f"/api/v1/concertations/{k.id}/reference-layers",
        files={"file": ("x.exe", b"MZ", "application/octet-stream")},
        data={"title": "Exécutable"},
        headers=admin,
    )
    assert bad.status_code == 422 and "Format non reconnu" in bad.json()["message"]
    no_rule = await client.post(
        f"/api/v1/concertations/{k.id}/reference-layers",
        files=files,
        data={"title": "Arbres", "role": "constraint"},
        headers=admin,
    )
    assert no_rule.status_code == 422 and "règle" in no_rule.json()["message"]
    short = await client.post(
        f"/api/v1/concertations/{k.id}/reference-layers",
        files=files,
        data={"title": "X"},
        headers=admin,
    )
    assert short.json()["message"] == "Description de couche invalide : title : trop court."


VRT_READING_PASSWD = (
    '<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>CSV:/etc/passwd</SrcDataSource>'
    '<SrcSQL dialect="SQLITE">SELECT MakePoint(3.06, 50.63) AS geom, * FROM passwd</SrcSQL>'
    "</OGRVRTLayer></OGRVRTDataSource>"
)


def _zip(name: str, content: bytes) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        ("arbres.geojson", VRT_READING_PASSWD.encode()),
        ("arbres.json", b"\xef\xbb\xbf\n  " + VRT_READING_PASSWD.encode()),
        ("arbres.zip", _zip("arbres.vrt", VRT_READING_PASSWD.encode())),
        ("arbres.gpkg", b"lon,lat,name\n3.06,50.63,x\n"),  # CSV in disguise
    ],
)
async def test_an_upload_cannot_make_gdal_read_server_files(
    client, make_concertation, session, filename, content
):
    """GDAL picks its driver from the content: a VRT named .geojson would read
    /etc/passwd into a public reference layer. Only the accepted formats' drivers open an
    upload; anything else is a 422 and nothing is stored."""
    k = await make_concertation(slug=f"t-vrt-{abs(hash(filename)) % 10**6}")
    admin = await login(client, "admin@demo.local")
    before = await count(session, "SELECT count(*) FROM reference_feature")
    upload = await client.post(
        f"/api/v1/concertations/{k.id}/reference-layers",
        files={"file": (filename, content, "application/octet-stream")},
        data={"title": "Arbres", "role": "reference"},
        headers=admin,
    )
    assert upload.status_code == 422, upload.text
    assert "root:" not in upload.text
    assert await count(session, "SELECT count(*) FROM reference_feature") == before
