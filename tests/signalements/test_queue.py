"""The agents' queue, nearby reports in true metres, and service levels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from tests.conftest import login
from tests.signalements.conftest import ROUBAIX, new_ticket

AGENT = "agent.proprete.roubaix@demo.local"


async def _age(session, sid: int, days: float) -> None:
    """Pretend a ticket arrived `days` ago (its due date moves with it)."""
    await session.execute(
        text("UPDATE signalement SET created_at = created_at - make_interval(secs => :s), "
             "due_at = due_at - make_interval(secs => :s) WHERE id = :i"),
        {"s": days * 86400, "i": sid},
    )  # fmt: skip


async def test_queue_shows_the_callers_tickets_oldest_first(client, session):
    agent = await login(client, AGENT)
    old = (await new_ticket(client))["id"]
    new = (await new_ticket(client))["id"]
    lille = (await new_ticket(client, lon=3.0635, lat=50.6365))["id"]  # Lille's own service
    await _age(session, old, 10)  # 7 days for proprete: overdue
    body = (await client.get("/api/v1/signalements?limit=1000", headers=agent)).json()
    ids = [i["id"] for i in body["items"]]
    assert old in ids and new in ids and lille not in ids
    assert ids.index(old) < ids.index(new)
    assert body["total"] == len(ids)
    created = [i["created_at"] for i in body["items"]]
    assert created == sorted(created)
    item = next(i for i in body["items"] if i["id"] == old)
    assert item["overdue"] is True and item["commune"] == {"code": "59512", "nom": "Roubaix"}
    assert item["location"]["coordinates"] == list(ROUBAIX)

    late = (await client.get("/api/v1/signalements?overdue=true&limit=1000", headers=agent)).json()
    assert old in [i["id"] for i in late["items"]] and new not in [i["id"] for i in late["items"]]
    await client.post(f"/api/v1/signalements/{new}/transitions",
                      json={"to": "resolved", "note": "ok"}, headers=agent)  # fmt: skip
    open_ids = [i["id"] for i in (await client.get("/api/v1/signalements?limit=1000",
                                                   headers=agent)).json()["items"]]  # fmt: skip
    assert new not in open_ids
    resolved = await client.get("/api/v1/signalements?state=resolved&limit=1000", headers=agent)
    assert new in [i["id"] for i in resolved.json()["items"]]
    assert {i["state"] for i in resolved.json()["items"]} == {"resolved"}
    by_commune = await client.get("/api/v1/signalements?commune=Roub&limit=1000", headers=agent)
    assert old in [i["id"] for i in by_commune.json()["items"]]
    assert (await client.get("/api/v1/signalements?state=perdu", headers=agent)).status_code == 422


async def test_queue_is_for_staff_only(client, session):
    assert (await client.get("/api/v1/signalements")).status_code == 401
    citizen = await login(client, "citoyen@demo.local")
    assert (await client.get("/api/v1/signalements", headers=citizen)).status_code == 403
    agent = await login(client, AGENT)
    mel_voirie = (
        await session.execute(
            text("SELECT s.id FROM service s JOIN authority a ON a.id = s.authority_id "
                 "WHERE a.slug = 'mel' AND s.slug = 'voirie'")
        )
    ).scalar_one()  # fmt: skip
    resp = await client.get(f"/api/v1/signalements?service_id={mel_voirie}", headers=agent)
    assert resp.status_code == 403
    admin = await login(client, "admin@demo.local")
    sid = (await new_ticket(client, code="voirie"))["id"]
    resp = await client.get(f"/api/v1/signalements?service_id={mel_voirie}&limit=1000",
                            headers=admin)  # fmt: skip
    assert sid in [i["id"] for i in resp.json()["items"]]


async def _offset(lon: float, lat: float, metres: float) -> tuple[float, float]:
    """A point `metres` east of (lon, lat)."""
    import math

    return lon + metres / (111_320 * math.cos(math.radians(lat))), lat


async def test_nearby_in_true_metres(client):
    lon, lat = 3.1712, 50.6880
    near = (await new_ticket(client, *await _offset(lon, lat, 20)))["id"]
    closer = (await new_ticket(client, *await _offset(lon, lat, 5)))["id"]
    far = (await new_ticket(client, *await _offset(lon, lat, 80)))["id"]
    other = (await new_ticket(client, *await _offset(lon, lat, 10), code="mobilier"))["id"]
    here = {"lon": lon, "lat": lat, "service_code": "proprete"}
    resp = await client.get("/api/v1/signalements/nearby", params=here)
    found = {n["id"]: n["distance_m"] for n in resp.json()}
    assert [n["id"] for n in resp.json()][:2] == [closer, near]
    assert abs(found[near] - 20) < 0.5 and abs(found[closer] - 5) < 0.5
    assert far not in found and other not in found
    wide = await client.get("/api/v1/signalements/nearby", params={
        "lon": lon, "lat": lat, "service_code": "proprete", "radius": 100})  # fmt: skip
    assert far in [n["id"] for n in wide.json()]
    agent = await login(client, AGENT)
    await client.post(f"/api/v1/signalements/{closer}/transitions",
                      json={"to": "resolved", "note": "ok"}, headers=agent)  # fmt: skip
    again = await client.get("/api/v1/signalements/nearby", params=here)
    assert closer not in [n["id"] for n in again.json()]
    for params in ({"radius": 5000}, {"service_code": "piscine"}, {"lat": 91}):
        bad = await client.get("/api/v1/signalements/nearby",
                               params={"lon": lon, "lat": lat, "service_code": "proprete",
                                       **params})  # fmt: skip
        assert bad.status_code == 422


async def test_service_levels(client, session):
    agent = await login(client, AGENT)
    ids = [(await new_ticket(client))["id"] for _ in range(3)]
    start = datetime.now(UTC) - timedelta(days=5)
    for hours, sid in zip((2, 4, 30), ids, strict=True):
        await session.execute(
            text("UPDATE signalement SET created_at = CAST(:c AS timestamptz), "
                 "due_at = CAST(:c AS timestamptz) + interval '7 days' WHERE id = :i"),
            {"c": start, "i": sid},
        )  # fmt: skip
        await client.post(f"/api/v1/signalements/{sid}/transitions",
                          json={"to": "acknowledged", "note": "vu"}, headers=agent)  # fmt: skip
        await session.execute(
            text("UPDATE signalement SET acknowledged_at = :a WHERE id = :i"),
            {"a": start + timedelta(hours=hours), "i": sid},
        )
    await client.post(f"/api/v1/signalements/{ids[0]}/transitions",
                      json={"to": "resolved", "note": "fait"}, headers=agent)  # fmt: skip
    await session.execute(
        text("UPDATE signalement SET closed_at = :a WHERE id = :i"),
        {"a": start + timedelta(hours=48), "i": ids[0]},
    )
    # Only these three were created in that window (demo tickets are older or newer).
    await session.execute(
        text("UPDATE signalement SET created_at = now() WHERE created_at BETWEEN "
             "CAST(:a AS timestamptz) - interval '1 hour' AND CAST(:a AS timestamptz) "
             "+ interval '1 hour' AND NOT id = ANY(:ids)"),
        {"a": start, "ids": ids},
    )  # fmt: skip
    since = (start - timedelta(minutes=1)).isoformat()
    until = (start + timedelta(minutes=1)).isoformat()
    resp = await client.get("/api/v1/signalements/stats",
                            params={"since": since, "until": until}, headers=agent)  # fmt: skip
    assert resp.status_code == 200, resp.text
    mine = [r for r in resp.json() if r["service_code"] == "proprete"]
    assert len(mine) == 1
    assert mine[0] == {
        "service_id": mine[0]["service_id"], "service": "Propreté urbaine",
        "authority": "Roubaix", "service_code": "proprete", "total": 3, "open": 2,
        "overdue": 0, "median_hours_to_acknowledge": 4.0, "median_hours_to_resolve": 48.0,
    }  # fmt: skip
    citizen = await login(client, "citoyen@demo.local")
    assert (await client.get("/api/v1/signalements/stats", headers=citizen)).status_code == 403
