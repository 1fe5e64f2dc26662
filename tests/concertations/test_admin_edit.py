"""Organisers edit a concertation's perimeter and themes (the administration screens)."""

from __future__ import annotations

from sqlalchemy import text

from tests.concertations.conftest import LILLE_INSEE, ROUBAIX, ROUBAIX_INSEE, feature
from tests.conftest import login

VELO = {"slug": "velo", "label": "Vélo", "color": "#00aa00"}
ARBRES = {"slug": "arbres", "label": "Arbres", "color": "#006600"}


async def test_perimeter_edit_moves_where_contributions_are_accepted(client, make_concertation):
    c = await make_concertation(communes=(LILLE_INSEE,))
    admin = await login(client, "admin@demo.local")
    citizen = await login(client, "citoyen@demo.local")
    url = f"/api/v1/concertations/{c.id}/contributions"
    before = await client.post(url, json=feature(*ROUBAIX), headers=citizen)
    assert before.status_code == 422
    resp = await client.patch(
        f"/api/v1/concertations/{c.id}",
        json={"perimeter": {"communes": [LILLE_INSEE, ROUBAIX_INSEE]}},
        headers=admin,
    )
    assert resp.status_code == 200, resp.text
    after = await client.post(url, json=feature(*ROUBAIX), headers=citizen)
    assert after.status_code == 201, after.text


async def test_themes_are_updated_added_and_removed_when_unused(client, make_concertation):
    c = await make_concertation()
    admin = await login(client, "admin@demo.local")
    themes = [
        {**VELO, "label": "Vélo et trottinettes", "color": "#123456"},
        {"label": "Bancs publics", "color": "#abcdef"},
    ]
    resp = await client.patch(
        f"/api/v1/concertations/{c.id}", json={"themes": themes}, headers=admin
    )
    assert resp.status_code == 200, resp.text
    got = [(t["slug"], t["label"], t["color"]) for t in resp.json()["themes"]]
    assert got == [
        ("velo", "Vélo et trottinettes", "#123456"),
        ("bancs-publics", "Bancs publics", "#abcdef"),
    ]


async def test_a_theme_with_contributions_cannot_be_removed(client, session, make_concertation):
    c = await make_concertation()
    admin = await login(client, "admin@demo.local")
    citizen = await login(client, "citoyen@demo.local")
    lille = (3.0632, 50.6369)
    made = await client.post(
        f"/api/v1/concertations/{c.id}/contributions",
        json=feature(*lille, theme="arbres"),
        headers=citizen,
    )
    assert made.status_code == 201, made.text
    resp = await client.patch(
        f"/api/v1/concertations/{c.id}", json={"themes": [VELO]}, headers=admin
    )
    assert resp.status_code == 409
    assert "Arbres" in resp.json()["message"]
    count = await session.scalar(
        text("SELECT count(*) FROM concertation_theme WHERE concertation_id = :c"), {"c": c.id}
    )
    assert count == 2


async def test_edit_refusals_change_nothing(client, session, make_concertation):
    c = await make_concertation()
    admin = await login(client, "admin@demo.local")
    agent = await login(client, "agent.voirie.mel@demo.local")
    url = f"/api/v1/concertations/{c.id}"
    perimeter = "SELECT ST_AsText(perimeter) FROM concertation WHERE id = :c"
    before = await session.scalar(text(perimeter), {"c": c.id})
    unknown = await client.patch(url, json={"perimeter": {"communes": ["00000"]}}, headers=admin)
    assert unknown.status_code == 422 and "00000" in unknown.json()["message"]
    empty = await client.patch(url, json={"perimeter": {}}, headers=admin)
    assert empty.status_code == 422
    twins = await client.patch(
        url, json={"themes": [VELO, {**VELO, "label": "Autre"}]}, headers=admin
    )
    assert twins.status_code == 422
    no_themes = await client.patch(url, json={"themes": []}, headers=admin)
    assert no_themes.status_code == 422
    wrong = await client.patch(url, json={"perimeter": {"communes": [ROUBAIX_INSEE]}},
                               headers=agent)  # fmt: skip
    assert wrong.status_code == 403
    assert await session.scalar(text(perimeter), {"c": c.id}) == before
    labels = await session.scalar(
        text("SELECT string_agg(label, ',' ORDER BY sort_order) FROM concertation_theme "
             "WHERE concertation_id = :c"), {"c": c.id},
    )  # fmt: skip
    assert labels == "Vélo,Arbres"
