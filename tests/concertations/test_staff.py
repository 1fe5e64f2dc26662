"""Organisers open concertations on territories; agents enter workshop and paper input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.concertations.conftest import LILLE, ROUBAIX, feature
from tests.conftest import login


def _payload(**extra):
    now = datetime.now(UTC)
    return {
        "title": "Réaménager la place du marché",
        "kind": "autre",
        "authorities": ["lille"],
        "perimeter": {"communes": ["59350"]},
        "opens_at": (now - timedelta(days=1)).isoformat(),
        "closes_at": (now + timedelta(days=20)).isoformat(),
        "themes": [{"label": "Circulation", "color": "#ff0000"}, {"label": "Marché"}],
        "phases": [{"phase": "contribution", "starts_at": (now - timedelta(days=1)).isoformat()}],
        **extra,
    }


async def test_admin_opens_a_concertation_on_communes(client):
    admin = await login(client, "admin@demo.local")
    resp = await client.post("/api/v1/concertations", json=_payload(), headers=admin)
    assert resp.status_code == 201, resp.text
    made = resp.json()
    assert made["slug"] == "reamenager-la-place-du-marche" and made["status"] == "ouverte"
    assert [t["slug"] for t in made["themes"]] == ["circulation", "marche"]
    assert made["authorities"] == ["Lille"] and made["phase"] == "contribution"
    assert made["perimeter"]["type"] == "MultiPolygon"
    again = await client.post("/api/v1/concertations", json=_payload(), headers=admin)
    assert again.json()["slug"] == "reamenager-la-place-du-marche-2"
    citizen = await login(client, "citoyen@demo.local")
    inside = await client.post(
        f"/api/v1/concertations/{made['id']}/contributions",
        json=feature(*LILLE, theme="marche"),
        headers=citizen,
    )
    assert inside.status_code == 201
    outside = await client.post(
        f"/api/v1/concertations/{made['id']}/contributions",
        json=feature(*ROUBAIX, theme="marche"),
        headers=citizen,
    )
    assert outside.status_code == 422
    patched = await client.patch(
        f"/api/v1/concertations/{made['id']}", json={"title": "Place du marché"}, headers=admin
    )
    assert patched.status_code == 200 and patched.json()["title"] == "Place du marché"
    backwards = await client.patch(
        f"/api/v1/concertations/{made['id']}",
        json={"closes_at": (datetime.now(UTC) - timedelta(days=30)).isoformat()},
        headers=admin,
    )
    assert backwards.status_code == 422


async def test_concertation_creation_refusals(client):
    admin = await login(client, "admin@demo.local")
    citizen = await login(client, "citoyen@demo.local")
    assert (await client.post("/api/v1/concertations", json=_payload())).status_code == 401
    refused = await client.post("/api/v1/concertations", json=_payload(), headers=citizen)
    assert refused.status_code == 403
    unknown = await client.post(
        "/api/v1/concertations", json=_payload(perimeter={"communes": ["00000"]}), headers=admin
    )
    assert unknown.status_code == 422 and "00000" in unknown.json()["message"]
    nowhere = await client.post(
        "/api/v1/concertations", json=_payload(authorities=["atlantide"]), headers=admin
    )
    assert nowhere.status_code == 422
    now = datetime.now(UTC)
    reversed_dates = _payload(
        opens_at=now.isoformat(), closes_at=(now - timedelta(days=1)).isoformat()
    )
    assert (
        await client.post("/api/v1/concertations", json=reversed_dates, headers=admin)
    ).status_code == 422
    naive = _payload(opens_at="2026-01-01T00:00:00", closes_at="2099-01-01T00:00:00")
    assert (
        await client.post("/api/v1/concertations", json=naive, headers=admin)
    ).status_code == 201


async def test_agents_enter_offline_input_for_others(client, make_concertation):
    k = await make_concertation()
    agent = await login(client, "agent.espaces-verts.lille@demo.local")
    citizen = await login(client, "citoyen@demo.local")
    url = f"/api/v1/concertations/{k.id}/contributions"
    paper = feature(*LILLE, channel="paper", author_label="Atelier de Fives")
    entered = await client.post(url, json=paper, headers=agent)
    assert entered.status_code == 201, entered.text
    props = entered.json()["properties"]
    assert (props["author"], props["channel"], props["channel_label"]) == (
        "Atelier de Fives",
        "paper",
        "Papier",
    )
    assert (await client.post(url, json=paper, headers=citizen)).status_code == 403
    online_by_agent = await client.post(url, json=feature(*LILLE), headers=agent)
    assert online_by_agent.status_code == 403
    other_agent = await login(client, "agent.voirie.mel@demo.local")  # not an organiser's agent
    assert (await client.post(url, json=paper, headers=other_agent)).status_code == 403
