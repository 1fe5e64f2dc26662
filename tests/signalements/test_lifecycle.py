"""The lifecycle: who may move a ticket where; refusals (401/403/409/422) change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from carto.signalements.states import CLOSED, OPEN, STATES, TRANSITIONS, find
from tests.conftest import login
from tests.signalements.conftest import new_ticket

AGENT = "agent.proprete.roubaix@demo.local"


async def _snapshot(session, sid: int):
    row = (
        await session.execute(
            text("SELECT state, service_id, updated_at, acknowledged_at, closed_at, "
                 "(SELECT count(*) FROM signalement_event WHERE signalement_id = s.id), "
                 "(SELECT count(*) FROM notification_outbox WHERE event_key LIKE "
                 "'signalement:' || s.id || ':%') FROM signalement s WHERE id = :i"),
            {"i": sid},
        )
    ).one()  # fmt: skip
    return tuple(row)


async def _move(client, sid: int, to: str, headers, note: str | None = "ok"):
    return await client.post(
        f"/api/v1/signalements/{sid}/transitions", json={"to": to, "note": note}, headers=headers
    )


def test_the_transition_table_is_consistent():
    assert {t.source for t in TRANSITIONS} | {t.target for t in TRANSITIONS} == set(STATES)
    assert all(find(s, "reopened") for s in CLOSED)
    assert not any(find(s, "reopened") for s in OPEN)
    assert find("resolved", "in_progress") is None
    assert find("routed", "rejected").note_required
    assert find("acknowledged", "resolved") is not None


async def test_contract_flow_and_409_changes_nothing(client, session):
    sid = (await new_ticket(client))["id"]
    agent = await login(client, AGENT)
    resp = await _move(client, sid, "acknowledged", agent, "Pris en compte")
    assert resp.status_code == 200 and resp.json()["state"] == "acknowledged"
    resp = await _move(client, sid, "resolved", agent, "Fait")
    assert resp.status_code == 200 and resp.json()["status"] == "closed"
    before = await _snapshot(session, sid)
    resp = await _move(client, sid, "in_progress", agent)
    assert resp.status_code == 409
    assert "ne peut pas passer" in resp.json()["message"]
    assert await _snapshot(session, sid) == before
    public = (await client.get(f"/api/v1/signalements/{sid}")).json()
    assert [(h["state"], h["note"]) for h in public["history"]][2:] == [
        ("acknowledged", "Pris en compte"), ("resolved", "Fait"),
    ]  # fmt: skip


async def test_401_403_for_the_wrong_people_and_nothing_changes(client, session):
    sid = (await new_ticket(client))["id"]
    before = await _snapshot(session, sid)
    assert (await _move(client, sid, "acknowledged", {})).status_code == 401
    for email in ("citoyen@demo.local", "agent.voirie.mel@demo.local",
                  "agent.proprete.tourcoing@demo.local"):  # fmt: skip
        resp = await _move(client, sid, "acknowledged", await login(client, email))
        assert resp.status_code == 403, email
        assert "Seuls les agents du service" in resp.json()["message"]
    assert await _snapshot(session, sid) == before
    admin = await login(client, "admin@demo.local")  # administrator of Roubaix
    assert (await _move(client, sid, "acknowledged", admin)).status_code == 200


async def test_rejection_needs_a_reason_and_bad_targets_are_422(client, session):
    sid = (await new_ticket(client))["id"]
    agent = await login(client, AGENT)
    before = await _snapshot(session, sid)
    for to, note in [("rejected", None), ("rejected", "  "), ("duplicate", "x"), ("fini", "x"),
                     ("routed", "x")]:  # fmt: skip
        resp = await _move(client, sid, to, agent, note)
        assert resp.status_code == 422, (to, resp.text)
    assert await _snapshot(session, sid) == before
    resp = await _move(client, sid, "rejected", agent, "Domaine privé : hors compétence")
    assert resp.status_code == 200
    staff = resp.json()
    assert staff["history"][-1]["note"] == "Domaine privé : hors compétence"


async def test_internal_notes_stay_internal(client):
    sid = (await new_ticket(client))["id"]
    agent = await login(client, AGENT)
    await client.post(
        f"/api/v1/signalements/{sid}/transitions",
        json={"to": "in_progress", "note": "Équipe en route", "internal_note": "code portail 1234"},
        headers=agent,
    )
    public = await client.get(f"/api/v1/signalements/{sid}")
    assert "1234" not in public.text and "Équipe en route" in public.text
    staff = (await client.get(f"/api/v1/signalements/{sid}", headers=agent)).json()
    assert staff["history"][-1]["internal_note"] == "code portail 1234"
    assert staff["history"][-1]["actor"] == "Agent proprete roubaix"


async def test_the_reporter_may_reopen_within_the_delay_only(client, session):
    citizen = await login(client, "citoyen@demo.local")
    agent = await login(client, AGENT)
    sid = (await new_ticket(client, headers=citizen))["id"]
    assert (await _move(client, sid, "acknowledged", citizen)).status_code == 403
    assert (await _move(client, sid, "resolved", agent, "Nettoyé")).status_code == 200
    # Not 409: whatever the state, a reporter may only reopen.
    assert (await _move(client, sid, "in_progress", citizen)).status_code == 403
    resp = await _move(client, sid, "reopened", citizen, "Toujours là")
    assert resp.status_code == 200 and resp.json()["state"] == "reopened"
    assert resp.json()["due_at"] > resp.json()["created_at"]
    assert (await _move(client, sid, "resolved", agent, "Nettoyé, vraiment")).status_code == 200
    await session.execute(
        text("UPDATE signalement SET closed_at = :t WHERE id = :i"),
        {"t": datetime.now(UTC) - timedelta(days=31), "i": sid},
    )
    before = await _snapshot(session, sid)
    resp = await _move(client, sid, "reopened", citizen)
    assert resp.status_code == 403 and "délai de 30 jours" in resp.json()["message"]
    assert await _snapshot(session, sid) == before
    assert (await _move(client, sid, "reopened", agent)).status_code == 200  # staff: any time


async def test_transfer_with_a_reason_the_citizen_sees(client, session):
    transfers_before = (
        await session.execute(
            text("""SELECT count(*) FROM signalement_event e
                    JOIN signalement s ON s.id = e.signalement_id
                    JOIN service f ON f.id = e.from_service_id
                    JOIN authority a ON a.id = f.authority_id
                    WHERE e.kind = 'transfer' AND s.category_code = 'proprete'
                      AND s.commune_insee = '59512' AND a.slug = 'roubaix'""")
        )
    ).scalar_one()  # fmt: skip
    sid = (await new_ticket(client, code="proprete"))["id"]
    agent = await login(client, AGENT)
    await _move(client, sid, "acknowledged", agent)
    target = (
        await session.execute(
            text("SELECT s.id FROM service s JOIN authority a ON a.id = s.authority_id "
                 "WHERE a.slug = 'mel' AND s.slug = 'voirie'")
        )
    ).scalar_one()  # fmt: skip
    resp = await client.post(
        f"/api/v1/signalements/{sid}/transfer",
        json={"service_id": target, "reason": "Nid-de-poule, pas un dépôt : voirie de la MEL"},
        headers=agent,
    )
    assert resp.status_code == 200, resp.text
    public = (await client.get(f"/api/v1/signalements/{sid}")).json()
    assert (public["state"], public["authority"], public["service"]) == (
        "routed", "Métropole Européenne de Lille", "Voirie",
    )  # fmt: skip
    last = public["history"][-1]
    assert last["event"] == "transfer"
    assert last["note"] == "Nid-de-poule, pas un dépôt : voirie de la MEL"
    assert last["label"] == "transféré à : Voirie, Métropole Européenne de Lille"
    tenants = (
        await session.execute(
            text("SELECT DISTINCT authority_id FROM signalement_event WHERE signalement_id = :i"),
            {"i": sid},
        )
    ).scalars()
    assert list(tenants) == [public_authority := await _authority(session, "mel")]
    assert public_authority
    assert (await _move(client, sid, "in_progress", agent)).status_code == 403
    mel = await login(client, "agent.voirie.mel@demo.local")
    assert (await _move(client, sid, "in_progress", mel)).status_code == 200
    stats = await client.get(
        "/api/v1/admin/signalements/transfers", headers=await login(client, "admin@demo.local")
    )
    key = {
        "service_code": "proprete",
        "commune": {"code": "59512", "nom": "Roubaix"},
        "from_authority": "Roubaix",
        "to_authority": "Métropole Européenne de Lille",
    }
    row = next(r for r in stats.json() if {k: r[k] for k in key} == key)
    assert row["transfers"] == transfers_before + 1
    assert (
        await client.get("/api/v1/admin/signalements/transfers", headers=mel)
    ).status_code == 403


async def _authority(session, slug: str) -> int:
    return int(
        (
            await session.execute(text("SELECT id FROM authority WHERE slug = :s"), {"s": slug})
        ).scalar_one()
    )


async def test_transfer_refusals(client, session):
    sid = (await new_ticket(client))["id"]
    agent = await login(client, AGENT)
    own = (await client.get(f"/api/v1/signalements/{sid}", headers=agent)).json()["service_id"]
    for body, status in [({"service_id": own, "reason": "x"}, 422),
                         ({"service_id": 10**6, "reason": "x"}, 422),
                         ({"service_id": own + 1, "reason": ""}, 422)]:  # fmt: skip
        resp = await client.post(f"/api/v1/signalements/{sid}/transfer", json=body, headers=agent)
        assert resp.status_code == status, resp.text
    other = await login(client, "agent.voirie.mel@demo.local")
    body = {"service_id": own + 1, "reason": "x"}
    resp = await client.post(f"/api/v1/signalements/{sid}/transfer", json=body, headers=other)
    assert resp.status_code == 403
    await _move(client, sid, "resolved", agent)
    resp = await client.post(f"/api/v1/signalements/{sid}/transfer", json=body, headers=agent)
    assert resp.status_code == 409


async def test_merge_and_supports(client, session):
    citizen = await login(client, "citoyen@demo.local")
    agent = await login(client, AGENT)
    first = (await new_ticket(client))["id"]
    dup = (await new_ticket(client, lon=3.17795, lat=50.69162))["id"]
    for headers, total in [({}, 1), ({}, 1), (citizen, 2), (citizen, 2)]:
        # Without an account, once per address; with one, once per account.
        resp = await client.post(f"/api/v1/signalements/{dup}/supports", headers=headers)
        assert resp.status_code == 200 and resp.json()["supports"] == total
    resp = await client.post(f"/api/v1/signalements/{dup}/merge", json={"into": dup},
                             headers=agent)  # fmt: skip
    assert resp.status_code == 422
    resp = await client.post(f"/api/v1/signalements/{dup}/merge", json={"into": first},
                             headers=citizen)  # fmt: skip
    assert resp.status_code == 403
    resp = await client.post(f"/api/v1/signalements/{dup}/merge", json={"into": first},
                             headers=agent)  # fmt: skip
    assert resp.status_code == 200, resp.text
    merged = (await client.get(f"/api/v1/signalements/{dup}")).json()
    assert (merged["state"], merged["duplicate_of"], merged["status"]) == ("duplicate", first,
                                                                          "closed")  # fmt: skip
    kept = (await client.get(f"/api/v1/signalements/{first}")).json()
    assert kept["supports"] == 3  # the duplicate itself, and its two supporters
    assert f"n° {dup}" in kept["history"][-1]["note"]
    # The supporters of the duplicate are counted on the kept ticket already.
    for headers in ({}, citizen):
        resp = await client.post(f"/api/v1/signalements/{first}/supports", headers=headers)
        assert resp.json()["supports"] == 3
    supporters = (
        await session.execute(
            text("SELECT supporter FROM signalement_support WHERE signalement_id = :i"),
            {"i": first},
        )
    ).scalars()
    assert all(":" in k and "127.0.0.1" not in k for k in supporters)  # no raw address
    assert (
        await client.post(f"/api/v1/signalements/{dup}/supports", headers=citizen)
    ).status_code == 409
    await _move(client, first, "resolved", agent)
    third = (await new_ticket(client))["id"]
    resp = await client.post(f"/api/v1/signalements/{third}/merge", json={"into": first},
                             headers=agent)  # fmt: skip
    assert resp.status_code == 409


@pytest.mark.parametrize("state", ["resolved", "rejected"])
async def test_notifications_follow_every_state_change(client, session, state):
    sid = (await new_ticket(client, email="suivi@example.org"))["id"]
    agent = await login(client, AGENT)
    await _move(client, sid, state, agent, "Terminé")
    subjects = (
        await session.execute(
            text("SELECT payload->>'subject' FROM notification_outbox "
                 "WHERE recipient = 'suivi@example.org' AND event_key LIKE :k ORDER BY id"),
            {"k": f"signalement:{sid}:%"},
        )
    ).scalars()  # fmt: skip
    label = {"resolved": "résolu", "rejected": "rejeté"}[state]
    assert list(subjects) == [
        f"Votre signalement n° {sid} : transmis au service compétent",
        f"Votre signalement n° {sid} : {label}",
    ]
