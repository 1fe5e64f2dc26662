"""The « à orienter » queue: default-routed tickets, seen by the platform's and the
intercommunality's admins, confirmed or re-routed with a history event."""

from __future__ import annotations

from sqlalchemy import text

from tests.conftest import login
from tests.signalements.conftest import count, new_ticket
from tests.signalements.without_carto import POINT, grant_admin, make_testville

QUEUE = "/api/v1/signalements?a_orienter=true&limit=1000"


async def test_default_routed_ticket_waits_for_orientation(client, session):
    town = await make_testville(session)
    ticket = await new_ticket(client, *POINT, code="proprete")
    assert "n'utilise pas encore Carto" in ticket["explanation"]
    demo_ticket = (await new_ticket(client))["id"]  # Roubaix: its own confirmed rule
    citizen = await login(client, "citoyen@demo.local")
    refused = await client.get(QUEUE, headers=citizen)
    assert refused.status_code == 403 and "administrateurs" in refused.json()["message"]
    platform = await login(client, "plateforme@demo.local")
    ids = [i["id"] for i in (await client.get(QUEUE, headers=platform)).json()["items"]]
    assert ticket["id"] in ids and demo_ticket not in ids
    # The demo admin runs other authorities: not this ticket, until it administers the CC.
    admin = await login(client, "admin@demo.local")
    assert ticket["id"] not in [
        i["id"] for i in (await client.get(QUEUE, headers=admin)).json()["items"]
    ]
    url = f"/api/v1/signalements/{ticket['id']}/orientation"
    resp = await client.post(url, json={"action": "confirm"}, headers=admin)
    assert resp.status_code == 403 and "administrateurs" in resp.json()["message"]
    await grant_admin(session, "admin@demo.local", town.interco_authority)
    admin = await login(client, "admin@demo.local")
    assert ticket["id"] in [
        i["id"] for i in (await client.get(QUEUE, headers=admin)).json()["items"]
    ]
    resp = await client.post(url, json={"action": "confirm"}, headers=admin)
    assert resp.status_code == 200, resp.text
    assert any("Orientation confirmée : Mairie (accueil), Testville" in (h["note"] or "")
               for h in resp.json()["history"])  # fmt: skip
    assert ticket["id"] not in [
        i["id"] for i in (await client.get(QUEUE, headers=admin)).json()["items"]
    ]
    again = await client.post(url, json={"action": "confirm"}, headers=admin)
    assert again.status_code == 409 and "à orienter" in again.json()["message"]


async def test_reroute_moves_the_ticket_and_refusals_store_nothing(client, session):
    town = await make_testville(session)
    platform = await login(client, "plateforme@demo.local")
    ticket = (await new_ticket(client, *POINT, code="proprete"))["id"]
    url = f"/api/v1/signalements/{ticket}/orientation"
    before = await count(session, "signalement_event")
    resp = await client.post(url, json={"action": "reroute"}, headers=platform)
    assert resp.status_code == 422 and "motif" in resp.json()["message"]
    resp = await client.post(url, json={"action": "envoyer"}, headers=platform)
    assert resp.status_code == 422
    assert await count(session, "signalement_event") == before
    assert await count(session, "signalement_orientation") == 0
    cc = int((await session.execute(text(
        "INSERT INTO service (authority_id, slug, name) VALUES (:a, 'proprete', 'Propreté CC') "
        "RETURNING id"), {"a": town.interco_authority})).scalar_one())  # fmt: skip
    body = {"action": "reroute", "service_id": cc, "reason": "La CC gère la propreté ici."}
    resp = await client.post(url, json=body, headers=platform)
    assert resp.status_code == 200, resp.text
    row = (await session.execute(text(
        "SELECT s.service_id, s.authority_id, o.outcome FROM signalement s "
        "JOIN signalement_orientation o ON o.signalement_id = s.id WHERE s.id = :id"),
        {"id": ticket})).one()  # fmt: skip
    assert tuple(row) == (cc, town.interco_authority, "rerouted")


async def test_ticket_sent_on_to_the_platform_desk_waits_again_and_is_decided_again(
    client, session
):
    """An authority that says « not ours » by transferring to the platform's desk puts the
    ticket back in the queue, even after an earlier decision; deciding it again works."""
    town = await make_testville(session)
    platform = await login(client, "plateforme@demo.local")
    ticket = (await new_ticket(client, *POINT, code="proprete"))["id"]
    desk = int((await session.execute(text(
        "SELECT s.id FROM service s JOIN authority a ON a.id = s.authority_id "
        "WHERE a.kind = 'plateforme' AND s.slug = 'contact'"))).scalar_one())  # fmt: skip
    cc = int((await session.execute(text(
        "INSERT INTO service (authority_id, slug, name) VALUES (:a, 'proprete', 'Propreté CC') "
        "RETURNING id"), {"a": town.interco_authority})).scalar_one())  # fmt: skip
    url = f"/api/v1/signalements/{ticket}/orientation"
    body = {"action": "reroute", "service_id": cc, "reason": "La CC gère la propreté ici."}
    assert (await client.post(url, json=body, headers=platform)).status_code == 200

    async def waiting() -> list[int]:
        items = (await client.get(QUEUE, headers=platform)).json()["items"]
        return [i["id"] for i in items]

    assert ticket not in await waiting()
    await grant_admin(session, "admin@demo.local", town.interco_authority)
    cc_admin = await login(client, "admin@demo.local")
    back = {"service_id": desk, "reason": "La propreté de cette rue relève d'un syndicat."}
    resp = await client.post(f"/api/v1/signalements/{ticket}/transfer", json=back,
                             headers=cc_admin)  # fmt: skip
    assert resp.status_code == 200, resp.text
    assert ticket in await waiting()
    again = {"action": "reroute", "service_id": cc, "reason": "Finalement, la CC."}
    resp = await client.post(url, json=again, headers=platform)
    assert resp.status_code == 200, resp.text
    assert ticket not in await waiting()
    row = (await session.execute(text(
        "SELECT o.outcome, count(*) OVER () FROM signalement_orientation o "
        "WHERE o.signalement_id = :id"), {"id": ticket})).one()  # fmt: skip
    assert tuple(row) == ("rerouted", 1)
