"""The contract's native calls: list, contribute (201/401/422), vote once per participant."""

from __future__ import annotations

import json
import math
from datetime import timedelta

from tests.concertations.conftest import BELLECOUR, LILLE, count, feature
from tests.conftest import login


async def _tree(client):
    resp = await client.get("/api/v1/concertations")
    assert resp.status_code == 200
    return next(c for c in resp.json() if "arbre" in (c["slug"] + c["title"]).lower())


async def test_list_has_contract_fields(client):
    resp = await client.get("/api/v1/concertations")
    assert resp.status_code == 200
    items = {c["slug"]: c for c in resp.json()}
    assert {"plu-de-la-mel", "planter-un-arbre-a-lyon"} <= set(items)
    plu = items["plu-de-la-mel"]
    assert {"id", "slug", "title", "status", "perimeter", "themes"} <= set(plu)
    assert plu["title"] == "PLU de la MEL" and plu["status"] == "ouverte"
    assert plu["perimeter"]["type"] == "MultiPolygon"
    assert [t["slug"] for t in plu["themes"]][:2] == ["mobilites", "nature"]
    assert all({"slug", "label", "color"} <= set(t) for t in plu["themes"])
    assert items["planter-un-arbre-a-lyon"]["authorities"] == ["Lyon"]
    assert plu["phase"] == "contribution"


async def test_contribution_inside_perimeter_is_stored(client, session):
    tree = await _tree(client)
    headers = await login(client, "citoyen@demo.local")
    theme = tree["themes"][0]["slug"]
    resp = await client.post(
        f"/api/v1/concertations/{tree['id']}/contributions",
        json=feature(*BELLECOUR, theme=theme, title="Un arbre place Bellecour ?"),
        headers=headers,
    )
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert isinstance(body["id"], int) and body["type"] == "Feature"
    props = body["properties"]
    assert props["theme"] == theme and props["kind"] == "proposition"
    assert props["author"] == "Camille (démo)" and props["channel"] == "online"
    assert props["commune"] == "69123" and props["visibility"] == "published"
    assert body["geometry"] == {"type": "Point", "coordinates": list(BELLECOUR)}
    assert "@" not in resp.text
    row = await count(
        session, "SELECT count(*) FROM public_layers.contributions WHERE id = :i", i=body["id"]
    )
    assert row == 1
    again = await client.get(f"/api/v1/contributions/{body['id']}")
    assert again.json()["properties"]["title"] == "Un arbre place Bellecour ?"


async def test_contribution_without_token_is_401(client):
    tree = await _tree(client)
    resp = await client.post(
        f"/api/v1/concertations/{tree['id']}/contributions", json=feature(*BELLECOUR)
    )
    assert resp.status_code == 401
    assert resp.json()["message"] == "Authentification requise."


async def test_outside_perimeter_is_422_and_stores_nothing(client, session):
    tree = await _tree(client)
    headers = await login(client, "citoyen@demo.local")
    before = await count(session, "SELECT count(*) FROM contribution")
    resp = await client.post(
        f"/api/v1/concertations/{tree['id']}/contributions",
        json=feature(*LILLE, theme=tree["themes"][0]["slug"]),
        headers=headers,
    )
    assert resp.status_code == 422
    assert resp.json()["error"] == "outside_territory"
    assert "hors du périmètre" in resp.json()["message"]
    assert await count(session, "SELECT count(*) FROM contribution") == before


async def test_closed_future_and_archived_concertations_refuse(client, make_concertation):
    headers = await login(client, "citoyen@demo.local")
    cases = {
        "close": await make_concertation(slug="t-close", closes=timedelta(seconds=-5)),
        "a_venir": await make_concertation(slug="t-future", opens=timedelta(days=2)),
        "archivee": await make_concertation(slug="t-archive", archived=True),
    }
    for status, k in cases.items():
        resp = await client.post(
            f"/api/v1/concertations/{k.id}/contributions", json=feature(*LILLE), headers=headers
        )
        assert resp.status_code == 422, status
        assert resp.json()["error"] == "concertation_closed"
        assert resp.json()["status"] == status
        assert "ne reçoit pas de contributions" in resp.json()["message"]


async def test_invalid_input_is_422_with_french_message(client, make_concertation, session):
    k = await make_concertation(geometry_types=("Point", "Polygon"), kinds=("proposition",))
    headers = await login(client, "citoyen@demo.local")
    url = f"/api/v1/concertations/{k.id}/contributions"
    self_crossing = [[[3.06, 50.63], [3.07, 50.64], [3.07, 50.63], [3.06, 50.64], [3.06, 50.63]]]
    bad = {
        "unknown theme": (feature(*LILLE, theme="nope"), "Thème inconnu"),
        "kind not allowed": (feature(*LILLE, kind="question"), "Type de contribution"),
        "latitude out of range": (feature(3.06, 95.0), "hors limites"),
        "NaN": (feature(math.nan, 50.6), "non finie"),
        "line not allowed": (
            {
                **feature(*LILLE),
                "geometry": {"type": "LineString", "coordinates": [[3.06, 50.63], [3.07, 50.64]]},
            },
            "n'accepte pas une ligne",
        ),
        "self-intersecting": (
            {**feature(*LILLE), "geometry": {"type": "Polygon", "coordinates": self_crossing}},
            "se recoupe",
        ),
        "unclosed ring": (
            {
                **feature(*LILLE),
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[3.06, 50.63], [3.07, 50.64], [3.07, 50.63], [3.065, 50.62]]],
                },
            },
            "fermé",
        ),
        "strings as coordinates": (
            {**feature(*LILLE), "geometry": {"type": "Point", "coordinates": ["3", "50"]}},
            "nombres",
        ),
    }
    before = await count(session, "SELECT count(*) FROM contribution")
    for name, (payload, fragment) in bad.items():
        raw = json.dumps(payload)  # allows NaN, as a careless client would send it
        resp = await client.post(
            url, content=raw, headers={**headers, "Content-Type": "application/json"}
        )
        assert resp.status_code == 422, name
        assert fragment in resp.json()["message"], (name, resp.json()["message"])
    missing = await client.post(url, json={"type": "Feature", "geometry": None}, headers=headers)
    assert missing.status_code == 422 and missing.json()["message"].startswith("Requête invalide")
    assert await count(session, "SELECT count(*) FROM contribution") == before


async def test_polygon_contribution_accepted(client, make_concertation):
    k = await make_concertation()
    headers = await login(client, "citoyen@demo.local")
    square = [[[3.060, 50.635], [3.062, 50.635], [3.062, 50.637], [3.060, 50.637], [3.060, 50.635]]]
    payload = {**feature(*LILLE), "geometry": {"type": "Polygon", "coordinates": square}}
    resp = await client.post(
        f"/api/v1/concertations/{k.slug}/contributions", json=payload, headers=headers
    )
    assert resp.status_code == 201, resp.text
    assert resp.json()["geometry"]["type"] == "Polygon"


async def test_one_vote_per_participant(client, session):
    tree = await _tree(client)
    target = (await client.get(f"/api/v1/concertations/{tree['id']}/contributions?limit=1")).json()
    cid = target["features"][0]["id"]
    start = target["features"][0]["properties"]
    headers = await login(client, "citoyen@demo.local")
    first = await client.post(
        f"/api/v1/contributions/{cid}/votes", json={"value": 1}, headers=headers
    )
    assert first.status_code == 201 and first.json()["replaced"] is False
    assert first.json()["votes_for"] == start["votes_for"] + 1
    second = await client.post(
        f"/api/v1/contributions/{cid}/votes",
        json={"value": -1, "reason": "Trop près du tram."},
        headers=headers,
    )
    assert second.status_code == 200 and second.json()["replaced"] is True
    assert (second.json()["votes_for"], second.json()["votes_against"]) == (
        start["votes_for"],
        start["votes_against"] + 1,
    )
    mine = await count(
        session,
        "SELECT count(*) FROM contribution_vote v JOIN app_user u ON u.id = v.user_id "
        "WHERE v.contribution_id = :c AND u.email = 'citoyen@demo.local'",
        c=cid,
    )
    assert mine == 1
    public = (await client.get(f"/api/v1/contributions/{cid}")).json()["properties"]
    assert (public["votes_for"], public["votes_against"]) == (
        start["votes_for"],
        start["votes_against"] + 1,
    )


async def test_vote_refusals(client, make_concertation):
    headers = await login(client, "citoyen@demo.local")
    assert (
        await client.post("/api/v1/contributions/1/votes", json={"value": 1})
    ).status_code == 401
    bad = await client.post("/api/v1/contributions/1/votes", json={"value": 0}, headers=headers)
    assert bad.status_code == 422
    missing = await client.post(
        "/api/v1/contributions/999999/votes", json={"value": 1}, headers=headers
    )
    assert missing.status_code == 404
    huge = await client.post(
        f"/api/v1/contributions/{2**40}/votes", json={"value": 1}, headers=headers
    )
    assert huge.status_code == 404


async def test_unstorable_text_is_422_not_500(client, make_concertation):
    k = await make_concertation()
    headers = await login(client, "citoyen@demo.local")
    resp = await client.post(
        f"/api/v1/concertations/{k.id}/contributions",
        json=feature(*LILLE, title="Titre \x00 nul"),
        headers=headers,
    )
    assert resp.status_code == 422
    assert (await client.get("/api/v1/concertations/abc%00def")).status_code == 404
    bad_filter = await client.get(f"/api/v1/concertations/{k.id}/contributions?theme=a%00b")
    assert bad_filter.status_code == 422


async def test_photo_must_be_uploaded_first(client, make_concertation):
    import io

    from PIL import Image

    k = await make_concertation()
    headers = await login(client, "citoyen@demo.local")
    url = f"/api/v1/concertations/{k.id}/contributions"
    unknown = await client.post(url, json=feature(*LILLE, photo_id="0" * 32), headers=headers)
    assert unknown.status_code == 422 and "Photo inconnue" in unknown.json()["message"]
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 60)).save(buffer, format="PNG")
    photo = await client.post(
        "/api/v1/media", files={"file": ("arbre.png", buffer.getvalue(), "image/png")}
    )
    assert photo.status_code == 201, photo.text
    made = await client.post(
        url, json=feature(*LILLE, photo_id=photo.json()["id"]), headers=headers
    )
    assert made.status_code == 201
    assert made.json()["properties"]["photo_id"] == photo.json()["id"]
    assert made.json()["properties"]["photo_url"] == photo.json()["url"]
