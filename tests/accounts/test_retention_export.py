"""Retention of reporters' contacts, and the features' parts of the data export."""

from __future__ import annotations

from sqlalchemy import text

from carto.settings import Settings
from carto.signalements.privacy import purge_closed_contacts
from tests.conftest import login


async def test_contacts_of_long_closed_tickets_are_cleared(session):
    ids = (
        (
            await session.execute(
                text(
                    "(SELECT id FROM signalement WHERE status = 'closed' ORDER BY id LIMIT 1) "
                    "UNION ALL "
                    "(SELECT id FROM signalement WHERE status = 'open' ORDER BY id LIMIT 1)"
                )
            )
        )
        .scalars()
        .all()
    )
    closed_id, open_id = ids
    await session.execute(
        text("UPDATE signalement SET closed_at = now() - interval '400 days' WHERE id = :i"),
        {"i": closed_id},
    )
    for sid in (closed_id, open_id):
        await session.execute(
            text(
                "INSERT INTO signalement_reporter (signalement_id, authority_id, email, first_name)"
                " SELECT id, authority_id, 'garde@example.org', 'Garde' FROM signalement"
                " WHERE id = :i ON CONFLICT (signalement_id) DO UPDATE"
                " SET email = EXCLUDED.email, first_name = EXCLUDED.first_name"
            ),
            {"i": sid},
        )
    keep = Settings(signalement_contact_retention_days=0)
    assert await purge_closed_contacts(session, keep) == 0
    cleared = await purge_closed_contacts(session, Settings(signalement_contact_retention_days=365))
    assert cleared >= 1
    rows = dict(
        (
            await session.execute(
                text(
                    "SELECT signalement_id, email FROM signalement_reporter "
                    "WHERE signalement_id IN (:a, :b)"
                ),
                {"a": closed_id, "b": open_id},
            )
        ).all()
    )
    assert rows[closed_id] is None and rows[open_id] == "garde@example.org"


async def test_export_includes_contributions_and_votes(client):
    headers = await login(client, "citoyen@demo.local")
    concertations = (await client.get("/api/v1/concertations")).json()
    tree = next(c for c in concertations if "arbre" in c["slug"])
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [4.8357, 45.7640]},
        "properties": {"title": "Un tilleul ici", "body": "Pour l'ombre.",
                       "theme": tree["themes"][0]["slug"], "kind": "proposition"},
    }  # fmt: skip
    made = await client.post(
        f"/api/v1/concertations/{tree['id']}/contributions", json=feature, headers=headers
    )
    assert made.status_code == 201, made.text
    cid = made.json()["id"]
    listed = await client.get(f"/api/v1/concertations/{tree['id']}/contributions?limit=50")
    voted = next(  # a vote on someone else's contribution: nobody votes for their own
        f["id"] for f in listed.json()["features"] if f["properties"]["author"] != "Camille (démo)"
    )
    vote = await client.post(
        f"/api/v1/contributions/{voted}/votes", json={"value": 1}, headers=headers
    )
    assert vote.status_code in (200, 201)
    data = (await client.get("/api/v1/me/export", headers=headers)).json()
    assert any(c["id"] == cid and c["titre"] == "Un tilleul ici"
               for c in data["concertations"]["contributions"])  # fmt: skip
    assert any(
        v["contribution"] == voted and v["valeur"] == 1 for v in data["concertations"]["votes"]
    )
    assert "signalements" in data
    register = (await client.get("/api/v1/rgpd/registre")).json()
    assert {"Signalements", "Contributions aux concertations"} <= {p["name"] for p in register}
