"""Open311 `services.json?jurisdiction_id=`: the categories that authority really
receives (its own rules, or the defaults e-mailed to the front desk of a commune
without Carto); posts with a jurisdiction reach it; unknown ones are the spec's 404."""

from __future__ import annotations

from sqlalchemy import text

from tests.signalements.conftest import count
from tests.signalements.without_carto import POINT, make_testville

BASE = "/open311/v2"


async def _codes(client, ident: str) -> list[str]:
    resp = await client.get(f"{BASE}/services.json", params={"jurisdiction_id": ident})
    assert resp.status_code == 200, resp.text
    return [s["service_code"] for s in resp.json()]


async def test_services_are_those_the_jurisdiction_receives(client):
    every = [s["service_code"] for s in (await client.get(f"{BASE}/services.json")).json()]
    # The contract's table: at Lyon, the commune keeps lighting, green spaces, furniture.
    lyon = await _codes(client, "lyon")
    assert set(lyon) == {"eclairage", "espaces-verts", "mobilier"}
    assert lyon == [c for c in every if c in lyon]  # the categories' own order
    assert set(await _codes(client, "200046977")) == {"voirie", "dechets", "proprete"}
    roubaix = set(await _codes(client, "roubaix"))
    assert {"proprete", "eclairage"} <= roubaix and "voirie" not in roubaix
    missing = await client.get(f"{BASE}/services/voirie.json", params={"jurisdiction_id": "lyon"})
    assert missing.status_code == 404 and "lyon" in missing.text.lower()
    kept = await client.get(f"{BASE}/services/mobilier.json", params={"jurisdiction_id": "lyon"})
    assert kept.status_code == 200


async def test_commune_without_carto_lists_its_default_categories(client, session):
    town = await make_testville(session)
    every = [s["service_code"] for s in (await client.get(f"{BASE}/services.json")).json()]
    routed = {}  # what a report at Testville would reach, category by category
    for code in every:
        where = {"lon": POINT[0], "lat": POINT[1], "service_code": code}
        preview = await client.get("/api/v1/routing/preview", params=where)
        routed[code] = preview.json()["authority"]["id"] if preview.status_code == 200 else None
    expected = [c for c in every if routed[c] == town.commune_authority]
    assert "proprete" in expected and "dechets" not in expected  # dechets: the CC's
    assert await _codes(client, "testville") == expected  # defaults, to its front desk
    assert await _codes(client, "200099999") == []  # the CC has no desk to receive dechets
    xml = await client.get(f"{BASE}/services.xml", params={"jurisdiction_id": "15999"})
    assert xml.status_code == 200 and "<service_code>proprete</service_code>" in xml.text
    unknown = await client.get(f"{BASE}/services.json", params={"jurisdiction_id": "99999"})
    assert unknown.status_code == 404 and unknown.json()[0]["code"] == 404


async def test_post_with_jurisdiction_reaches_its_front_desk(client, session):
    await make_testville(session)
    body = {"long": str(POINT[0]), "lat": str(POINT[1]), "service_code": "proprete",
            "description": "Dépôt sauvage", "jurisdiction_id": "testville"}  # fmt: skip
    made = await client.post(f"{BASE}/requests.json", data=body)
    assert made.status_code == 201, made.text
    rid = made.json()[0]["service_request_id"]
    got = (await client.get(f"{BASE}/requests/{rid}.json")).json()[0]
    assert got["agency_responsible"] == "Testville — Mairie (accueil)"
    assert "n'utilise pas encore Carto" in made.json()[0]["service_notice"]
    before = await count(session)
    elsewhere = {**body, "long": "3.1779", "lat": "50.6916"}  # Roubaix
    refused = await client.post(f"{BASE}/requests.json", data=elsewhere)
    assert refused.status_code == 400 and "Testville" in refused.json()[0]["description"]
    assert await count(session) == before


async def test_departement_jurisdiction_takes_reports_on_its_ground(client, session):
    await make_testville(session)
    dep = "INSERT INTO authority (slug, name, kind, code) VALUES ('cantal-test', 'Cantal', "
    held = await session.execute(text(dep + "'departement', '15') RETURNING id"))
    area = "INSERT INTO departement (code, nom, authority_id) VALUES ('15', 'Cantal', :a)"
    await session.execute(text(area), {"a": held.scalar_one()})
    body = {"long": str(POINT[0]), "lat": str(POINT[1]), "service_code": "proprete",
            "description": "Dépôt sauvage", "jurisdiction_id": "cantal-test"}  # fmt: skip
    made = await client.post(f"{BASE}/requests.json", data=body)
    assert made.status_code == 201, made.text  # routed to Testville, in the Cantal
    elsewhere = {**body, "long": "3.1779", "lat": "50.6916"}  # Roubaix, Nord
    refused = await client.post(f"{BASE}/requests.json", data=elsewhere)
    assert refused.status_code == 400 and "Cantal" in refused.json()[0]["description"]
