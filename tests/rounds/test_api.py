"""The rounds API on the Helsinki test territory: who may plan, what comes back (JSON,
GPX, HTML), refusals, and the graph rebuilt when the streets are re-imported."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import text

from tests.conftest import login
from tests.rounds.conftest import file_tickets, staff
from tests.rounds.helsinki import ADMIN, AGENT, AT_SEA, DEPOT, OTHER_AGENT, STOPS

GPX = {"g": "http://www.topografix.com/GPX/1/1"}
pytestmark = pytest.mark.usefixtures("helsinki_streets")


async def place_depot(client, service_id: int) -> None:
    body = {"name": "Centre technique", "lon": DEPOT[0], "lat": DEPOT[1]}
    resp = await client.put(
        f"/api/v1/services/{service_id}/depot", json=body, headers=await staff(client, ADMIN)
    )
    assert resp.status_code == 200, resp.text


async def test_agent_plans_a_round_from_the_depot(client, territory, session):
    ids = await file_tickets(client, [*STOPS, AT_SEA])
    await place_depot(client, territory.voirie_id)
    headers = await staff(client, AGENT)
    url = f"/api/v1/services/{territory.voirie_id}/rounds"
    resp = await client.post(url, json={"signalement_ids": ids}, headers=headers)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["start_name"] == "Centre technique"
    assert sorted(s["signalement_id"] for s in body["stops"]) == sorted(ids[:-1])
    assert [s["rank"] for s in body["stops"]] == list(range(1, len(STOPS) + 1))
    assert body["stops"][0]["address"]  # the street name found at intake
    assert body["stops"][0]["description"].startswith("Nid-de-poule")
    assert [(a["signalement_id"], a["reason"]) for a in body["set_apart"]] == [
        (ids[-1], "no_street")
    ]
    route = body["route"]["coordinates"]
    assert route[0] == route[-1] and len(route) > len(STOPS)
    assert 0 < body["distance_m"] <= body["baseline_distance_m"]
    assert body["distance_m"] == pytest.approx(body["stops"][-1]["cumulative_m"], rel=0.5)

    # The same round as GPX (parsed) and as a printable page without script.
    query = {"ids": ",".join(map(str, ids))}
    gpx = await client.get(f"{url}.gpx", params=query, headers=headers)
    assert gpx.status_code == 200 and gpx.headers["content-type"] == "application/gpx+xml"
    assert "attachment" in gpx.headers["content-disposition"]
    root = ET.fromstring(gpx.content)  # noqa: S314 - our own answer
    names = [n.text for n in root.findall("g:wpt/g:name", GPX)]
    assert names == [
        f"{s['rank']}. n° {s['signalement_id']} — {s['category']}" for s in body["stops"]
    ]
    assert len(root.findall("g:rte/g:rtept", GPX)) == len(STOPS) + 1
    assert len(root.findall("g:trk/g:trkseg/g:trkpt", GPX)) == len(route)
    page = await client.get(f"{url}.html", params=query, headers=headers)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<script" not in page.text and "style=" not in page.text
    assert "Feuille de tournée" in page.text and "Voirie d&#39;essai" in page.text
    assert f"n° {ids[-1]}" in page.text and "aucune rue à moins de 150 m" in page.text


async def test_only_the_services_staff_may_plan_or_place_the_depot(client, territory):
    ids = await file_tickets(client, STOPS[:2])
    url = f"/api/v1/services/{territory.voirie_id}/rounds"
    body = {"signalement_ids": ids, "start": {"lon": DEPOT[0], "lat": DEPOT[1]}}
    assert (await client.post(url, json=body)).status_code == 401
    for headers in (
        await staff(client, OTHER_AGENT),  # agent of another service of the authority
        await login(client, "agent.voirie.mel@demo.local"),  # agent of another authority
        await login(client, "citoyen@demo.local"),
    ):
        resp = await client.post(url, json=body, headers=headers)
        assert resp.status_code == 403, resp.text
        assert resp.json()["message"].startswith("Seuls les agents du service")
        gpx = await client.get(f"{url}.gpx", params={"ids": str(ids[0])}, headers=headers)
        assert gpx.status_code == 403
    admin = await staff(client, ADMIN)  # administrators of the authority may plan too
    assert (await client.post(url, json=body, headers=admin)).status_code == 200
    depot = f"/api/v1/services/{territory.voirie_id}/depot"
    spot = {"name": "Dépôt", "lon": DEPOT[0], "lat": DEPOT[1]}
    resp = await client.put(depot, json=spot, headers=await staff(client, AGENT))
    assert resp.status_code == 403
    resp = await client.put(depot, json=spot, headers=await login(client, "admin@demo.local"))
    assert resp.status_code == 403  # an administrator of another authority
    assert (await client.get(depot, headers=await staff(client, AGENT))).json() is None


async def test_bad_rounds_are_refused_in_french_and_store_nothing(client, territory, session):
    ids = await file_tickets(client, STOPS[:2])
    other = await file_tickets(client, STOPS[2:3], code="proprete")
    headers = await staff(client, AGENT)
    url = f"/api/v1/services/{territory.voirie_id}/rounds"
    start = {"lon": DEPOT[0], "lat": DEPOT[1]}
    await session.execute(
        text("UPDATE signalement SET state = 'resolved' WHERE id = :i"), {"i": ids[1]}
    )
    cases = [
        ({"signalement_ids": ids[:1]}, "pas de dépôt"),
        ({"signalement_ids": [*ids[:1], 999999], "start": start}, "introuvables : n° 999999"),
        ({"signalement_ids": [ids[0], *other], "start": start}, "pas dans ce service"),
        ({"signalement_ids": ids, "start": start}, f"clos : n° {ids[1]}"),
        ({"signalement_ids": ids[:1], "start": {"lon": AT_SEA[0], "lat": AT_SEA[1]}}, "départ"),
        ({"signalement_ids": []}, ""),
        ({"signalement_ids": ids[:1], "start": start, "budget_minutes": 0}, ""),
    ]
    for body, message in cases:
        resp = await client.post(url, json=body, headers=headers)
        assert resp.status_code == 422, (body, resp.text)
        assert message in resp.json()["message"]
    gpx = await client.get(f"{url}.gpx", params={"ids": "1,x"}, headers=headers)
    assert gpx.status_code == 422
    assert (await client.post("/api/v1/services/999999/rounds", json=cases[1][0],
                              headers=headers)).status_code == 404  # fmt: skip
    depot = f"/api/v1/services/{territory.voirie_id}/depot"
    resp = await client.put(depot, json={"name": "", "lon": 500, "lat": 0},
                            headers=await staff(client, ADMIN))  # fmt: skip
    assert resp.status_code == 422
    count = (await session.execute(text("SELECT count(*) FROM service_depot"))).scalar()
    assert count == 0


async def test_time_budget_sets_the_rest_apart(client, territory):
    ids = await file_tickets(client, STOPS)
    await place_depot(client, territory.voirie_id)
    url = f"/api/v1/services/{territory.voirie_id}/rounds"
    body = {"signalement_ids": ids, "budget_minutes": 60, "stop_minutes": 15}
    resp = await client.post(url, json=body, headers=await staff(client, AGENT))
    assert resp.status_code == 200, resp.text
    data = resp.json()
    assert 1 <= len(data["stops"]) <= 3  # 15 min a stop, and the way back, in an hour
    late = [a for a in data["set_apart"] if a["reason"] == "over_budget"]
    assert len(data["stops"]) + len(late) == len(ids)
    assert late[0]["message"] == "ne tient pas dans le temps disponible (60 min)"
    assert data["duration_minutes"] <= 60
