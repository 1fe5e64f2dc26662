"""Issue 21's server side for citizens and agents: the transfer candidates, the queue's
sort, `may_act`, the current routing after a transfer, French validation messages,
where to report instead outside coverage, the informed service's reason, no INSEE code
read as a postcode."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from carto.validation_fr import french_message
from tests.conftest import login
from tests.signalements.conftest import ROUBAIX, new_ticket

AGENT = "agent.proprete.roubaix@demo.local"
OTHER_AGENT = "agent.proprete.tourcoing@demo.local"
BOULOGNE = (2.2399, 48.8353)
MOUSCRON = (3.2165, 50.7436)  # Belgium, a few km from Wattrelos and Tourcoing
OPEN_SEA = (-3.5, 47.0)


async def test_transfer_candidates_are_the_communes_and_intercommunalities_first(client):
    ticket = await new_ticket(client)
    headers = await login(client, AGENT)
    url = f"/api/v1/signalements/{ticket['id']}/transfer-candidates"
    resp = await client.get(url, headers=headers)
    assert resp.status_code == 200, resp.text
    groups = resp.json()["groups"]
    assert [g["relation"] for g in groups][:2] == ["commune", "intercommunalite"]
    assert {g["authority"] for g in groups} == {"Roubaix", "Métropole Européenne de Lille"}
    ids = [s["id"] for g in groups for s in g["services"]]
    assert ids and len(ids) == len(set(ids))
    staff = (await client.get(f"/api/v1/signalements/{ticket['id']}", headers=headers)).json()
    assert staff["service_id"] not in ids  # never the current service

    # Others only through a search (accents and case ignored), the local ones first.
    found = (await client.get(url, params={"q": "LYON"}, headers=headers)).json()
    assert found["groups"] and found["query"] == "LYON"
    for g in found["groups"]:
        assert "lyon" in (g["authority"] + " ".join(s["name"] for s in g["services"])).lower()
    assert {g["relation"] for g in found["groups"]} == {"autre"}
    local = (await client.get(url, params={"q": "voirie"}, headers=headers)).json()["groups"]
    assert local[0]["authority"] == "Métropole Européenne de Lille"
    assert local[0]["relation"] == "intercommunalite"
    nothing = (await client.get(url, params={"q": "%_zz"}, headers=headers)).json()
    assert nothing["groups"] == []


async def test_transfer_candidates_are_refused_to_others(client):
    ticket = await new_ticket(client)
    url = f"/api/v1/signalements/{ticket['id']}/transfer-candidates"
    assert (await client.get(url)).status_code == 401
    other = await login(client, OTHER_AGENT)
    resp = await client.get(url, headers=other)
    assert resp.status_code == 403 and "message" in resp.json()
    assert (
        await client.get(url.replace(str(ticket["id"]), "999999999"), headers=other)
    ).status_code == 404


async def test_may_act_and_the_routing_after_a_transfer(client):
    ticket = await new_ticket(client)
    sid = ticket["id"]
    assert ticket["may_act"] is False  # the public page
    mine, other = await login(client, AGENT), await login(client, OTHER_AGENT)
    assert (await client.get(f"/api/v1/signalements/{sid}", headers=mine)).json()["may_act"] is True
    assert (await client.get(f"/api/v1/signalements/{sid}", headers=other)).json()[
        "may_act"
    ] is False
    url = f"/api/v1/signalements/{sid}/transfer-candidates"
    mel = next(
        g
        for g in (await client.get(url, headers=mine)).json()["groups"]
        if g["relation"] == "intercommunalite"
    )
    target = mel["services"][0]
    resp = await client.post(
        f"/api/v1/signalements/{sid}/transfer",
        json={"service_id": target["id"], "reason": "Voirie métropolitaine"},
        headers=mine,
    )
    assert resp.status_code == 200, resp.text
    page = (await client.get(f"/api/v1/signalements/{sid}")).json()
    assert page["service"] == target["name"]
    # The explanation speaks Paris time; the history's `at` is an ISO instant.
    at = datetime.fromisoformat(page["history"][-1]["at"]).astimezone(ZoneInfo("Europe/Paris"))
    assert page["explanation"].startswith(f"Transféré le {at:%d/%m/%Y}")
    assert (
        f"à {target['name']}, Métropole Européenne de Lille : « Voirie métropolitaine »"
        in (page["explanation"])
    )
    assert "Routage initial : Point dans la commune de Roubaix" in page["explanation"]


async def test_queue_sorts_oldest_newest_and_by_deadline(client):
    headers = await login(client, AGENT)
    await new_ticket(client)
    orders = {}
    for sort in ("oldest", "newest", "deadline"):
        resp = await client.get("/api/v1/signalements", params={"sort": sort}, headers=headers)
        assert resp.status_code == 200, resp.text
        orders[sort] = resp.json()["items"]
    created = [i["created_at"] for i in orders["oldest"]]
    assert len(created) >= 2 and created == sorted(created)
    assert [i["created_at"] for i in orders["newest"]] == sorted(created, reverse=True)
    due = [i["due_at"] for i in orders["deadline"]]
    assert due == sorted(due)
    bad = await client.get("/api/v1/signalements", params={"sort": "random"}, headers=headers)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["message"].startswith("valeur non reconnue")


async def test_validation_messages_are_french(client):
    resp = await client.post(
        "/api/v1/signalements",
        json={"lon": ROUBAIX[0], "lat": 95, "service_code": "proprete", "description": " ",
              "email": "pas-une-adresse"},
    )  # fmt: skip
    assert resp.status_code == 422
    errors = {e["field"]: e["message"] for e in resp.json()["errors"]}
    assert errors == {
        "lat": "doit être inférieur ou égal à 90",
        "description": "la description ne peut pas être vide",
        "email": "adresse e-mail invalide",
    }
    missing = await client.post("/api/v1/signalements", json={})
    assert {e["message"] for e in missing.json()["errors"]} == {"champ obligatoire"}
    assert "value is not" not in missing.text and "Field required" not in missing.text


def test_every_pydantic_message_we_map_is_french():
    assert french_message({"type": "string_too_long", "ctx": {"max_length": 40}}) == (
        "trop long : au plus 40 caractères"
    )
    assert french_message({"type": "int_parsing"}) == "nombre entier attendu"
    assert french_message({"type": "value_error", "msg": "Value error, motif requis"}) == (
        "motif requis"
    )
    assert french_message({"type": "something_new", "msg": "Input should be"}) == "valeur invalide"


async def test_outside_coverage_says_where_to_report_instead(client):
    near = await client.get(
        "/api/v1/routing/preview",
        params={"lon": MOUSCRON[0], "lat": MOUSCRON[1], "service_code": "voirie"},
    )
    assert near.status_code == 422
    body = near.json()
    assert body["error"] == "outside_territory"
    commune = body["report_instead"]["nearest"]["commune"]
    assert f"La commune la plus proche est {commune}" in body["message"]
    assert "adressez-vous à sa mairie" in body["message"]
    sea = await client.post(
        "/api/v1/signalements",
        json={"lon": OPEN_SEA[0], "lat": OPEN_SEA[1], "service_code": "voirie",
              "description": "Bouée dérivante"},
    )  # fmt: skip
    assert sea.status_code == 422
    assert sea.json()["report_instead"]["nearest"] is None
    assert "CROSS (196)" in sea.json()["message"] and "112" in sea.json()["message"]


async def test_informed_service_has_its_reason_and_no_insee_code_is_shown(client):
    resp = await client.get(
        "/api/v1/routing/preview",
        params={"lon": BOULOGNE[0], "lat": BOULOGNE[1], "service_code": "proprete"},
    )
    body = resp.json()
    assert body["informed"][0]["reason"] == "Pouvoirs de police du maire (dépôts sauvages)"
    assert "motif : pouvoirs de police du maire" in body["explanation"]
    assert "(92012)" not in body["explanation"]
    lille = await client.get(
        "/api/v1/routing/preview",
        params={"lon": 3.0573, "lat": 50.6292, "service_code": "proprete"},
    )
    explanation = lille.json()["explanation"]
    assert explanation.startswith("Point dans la commune de Lille, membre")  # several postcodes
    assert "59350" not in explanation
