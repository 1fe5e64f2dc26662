"""Intake: routed at once, refused with a reason and nothing stored, personal data apart."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.conftest import login
from tests.signalements.conftest import BRUSSELS, LYON_BELLECOUR, ROUBAIX, count, new_ticket, report


async def test_a_report_is_routed_at_once_with_both_events(client):
    body = await new_ticket(client, email="Camille.Martin@Example.org", first_name="Camille",
                            last_name="Martin", address="12 rue de la Paix, Roubaix")  # fmt: skip
    assert body["state"] == "routed" and body["status"] == "open"
    assert (body["authority"], body["service"]) == ("Roubaix", "Propreté urbaine")
    assert body["service_code"] == "proprete"
    assert body["location"] == {"type": "Point", "coordinates": list(ROUBAIX)}
    assert body["commune"] == {"code": "59512", "nom": "Roubaix"}
    assert [h["state"] for h in body["history"]] == ["submitted", "routed"]
    assert body["explanation"].startswith("Point dans la commune de Roubaix (59100)")
    assert body["reference"] == str(body["id"])
    text_ = str(body).lower()
    assert "camille" not in text_ and "martin" not in text_ and "example.org" not in text_
    public = await client.get(f"/api/v1/signalements/{body['id']}")
    assert public.status_code == 200 and public.json() == body


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"lon": BRUSSELS[0], "lat": BRUSSELS[1]}, "en dehors des territoires"),
        ({"service_code": "piscine"}, "Catégorie inconnue"),
        ({"lat": 95.0}, "Requête invalide"),
        ({"description": "   "}, "Requête invalide"),
        ({"email": "pas-une-adresse"}, "Requête invalide"),
        ({"photo_id": "0" * 32}, "Photo inconnue"),
    ],
)
async def test_refusals_are_clear_and_store_nothing(client, session, payload, message):
    before = [
        await count(session, t)
        for t in ("signalement", "signalement_event", "signalement_reporter", "notification_outbox")
    ]
    body = {"lon": ROUBAIX[0], "lat": ROUBAIX[1], "service_code": "proprete",
            "description": "Un tag", "email": "a@b.fr", **payload}  # fmt: skip
    resp = await client.post("/api/v1/signalements", json=body)
    assert resp.status_code == 422, resp.text
    assert message in resp.json()["message"]
    after = [
        await count(session, t)
        for t in ("signalement", "signalement_event", "signalement_reporter", "notification_outbox")
    ]
    assert after == before


async def test_reporter_data_lives_apart_and_only_staff_see_it(client, session):
    body = await new_ticket(client, email="camille@example.org", first_name="Camille")
    columns = set(
        (
            await session.execute(
                text("SELECT column_name FROM information_schema.columns "
                     "WHERE table_name = 'signalement'")
            )
        ).scalars()
    )  # fmt: skip
    assert not columns & {"email", "first_name", "last_name", "ip", "user_id"}
    row = (
        await session.execute(
            text(
                "SELECT email, first_name, ip FROM signalement_reporter WHERE signalement_id = :i"
            ),
            {"i": body["id"]},
        )
    ).one()
    assert row[0] == "camille@example.org" and row[1] == "Camille" and row[2]

    agent = await login(client, "agent.proprete.roubaix@demo.local")
    staff = (await client.get(f"/api/v1/signalements/{body['id']}", headers=agent)).json()
    assert staff["reporter"] == {"email": "camille@example.org", "first_name": "Camille",
                                 "last_name": None, "has_account": False}  # fmt: skip
    for other in ("citoyen@demo.local", "agent.voirie.mel@demo.local"):
        seen = await client.get(
            f"/api/v1/signalements/{body['id']}", headers=await login(client, other)
        )
        assert "camille" not in seen.text and "reporter" not in seen.json()


async def test_a_signed_in_citizen_is_the_reporter(client, session):
    citizen = await login(client, "citoyen@demo.local")
    body = await new_ticket(client, headers=citizen)
    mine = (await client.get("/api/v1/me/signalements", headers=citizen)).json()
    assert body["id"] in [m["id"] for m in mine]
    agent = await login(client, "agent.proprete.roubaix@demo.local")
    staff = (await client.get(f"/api/v1/signalements/{body['id']}", headers=agent)).json()
    assert staff["reporter"]["email"] == "citoyen@demo.local"
    assert staff["reporter"]["has_account"] is True


async def test_routing_notifies_citizen_service_and_informed_services(client, session):
    body = await new_ticket(client, *LYON_BELLECOUR, email="c@example.org")
    assert body["authority"] == "Métropole de Lyon"
    rows = (
        await session.execute(
            text("SELECT channel, recipient, payload->>'subject' FROM notification_outbox "
                 "WHERE event_key LIKE :k ORDER BY id"),
            {"k": f"signalement:{body['id']}:%"},
        )
    ).all()  # fmt: skip
    recipients = [r[1] for r in rows]
    assert "c@example.org" in recipients
    assert "proprete.lyon-metropole@services.demo.local" in recipients
    assert "mobilier.lyon@services.demo.local" in recipients  # the mayor's copy
    citizen = next(r for r in rows if r[1] == "c@example.org")
    assert citizen[2] == f"Votre signalement n° {body['id']} : transmis au service compétent"


async def test_photo_is_attached_by_id(client):
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 30, 30)).save(buf, format="PNG")
    up = await client.post("/api/v1/media", files={"file": ("p.png", buf.getvalue(), "image/png")})
    assert up.status_code == 201, up.text
    body = await new_ticket(client, photo_id=up.json()["id"])
    assert [p["id"] for p in body["photos"]] == [up.json()["id"]]
    assert body["photos"][0]["url"].startswith("/media/")


async def test_geometry_columns_and_public_view(client, session):
    body = await new_ticket(client)
    row = (
        await session.execute(
            text("SELECT ST_SRID(geom), ST_SRID(geom_3857), "
                 "ST_DWithin(geom_3857, ST_Transform(geom, 3857), 0.001) "
                 "FROM signalement WHERE id = :i"),
            {"i": body["id"]},
        )
    ).one()  # fmt: skip
    assert tuple(row) == (4326, 3857, True)
    view = (
        (
            await session.execute(
                text("SELECT * FROM public_layers.signalements WHERE id = :i"), {"i": body["id"]}
            )
        )
        .mappings()
        .one()
    )
    assert list(view.keys()) == [
        "id", "service_code", "category", "state", "status", "authority", "authority_id",
        "service", "commune", "commune_nom", "arrondissement", "created_at", "updated_at",
        "supports", "geom", "geom_3857", "address", "postcode",
    ]  # fmt: skip
    assert (view["authority"], view["commune_nom"], view["status"]) == (
        "Roubaix",
        "Roubaix",
        "open",
    )


async def test_report_in_a_lyon_arrondissement(client):
    body = await new_ticket(client, *LYON_BELLECOUR, code="espaces-verts")
    assert body["authority"] == "Lyon"
    assert body["commune"]["code"] == "69123"
    assert body["arrondissement"] == {"code": "69382", "nom": "Lyon 2e Arrondissement"}


async def test_unknown_ticket_is_404(client):
    resp = await client.get("/api/v1/signalements/999999")
    assert resp.status_code == 404 and "introuvable" in resp.json()["message"]
    assert (await report(client, 3.0, 50.6, "voirie", description="")).status_code == 422


async def test_export_and_erasure_of_the_reporter(client, session):
    citizen = await login(client, "citoyen@demo.local")
    sid = (await new_ticket(client, headers=citizen, first_name="Camille"))["id"]
    other = (await new_ticket(client))["id"]
    await client.post(f"/api/v1/signalements/{other}/supports", headers=citizen)
    data = (await client.get("/api/v1/me/export", headers=citizen)).json()
    mine = next(s for s in data["signalements"] if s["numero"] == sid)
    assert mine["prenom"] == "Camille" and mine["categorie"] == "proprete"
    resp = await client.post("/api/v1/me/delete", json={"password": "demo"}, headers=citizen)
    assert resp.status_code == 200, resp.text
    row = (
        await session.execute(
            text("SELECT user_id, email, first_name, last_name, ip FROM signalement_reporter "
                 "WHERE signalement_id = :i"),
            {"i": sid},
        )
    ).one()  # fmt: skip
    assert tuple(row) == (None, None, None, None, None)
    assert (await client.get(f"/api/v1/signalements/{sid}")).status_code == 200
    support = (
        await session.execute(
            text("SELECT user_id, supporter FROM signalement_support WHERE signalement_id = :i"),
            {"i": other},
        )
    ).one()
    assert support[0] is None and support[1].startswith("x:")
    assert (await client.get(f"/api/v1/signalements/{other}")).json()["supports"] == 1


async def test_services_directory_for_staff(client):
    assert (await client.get("/api/v1/services")).status_code == 401
    citizen = await login(client, "citoyen@demo.local")
    assert (await client.get("/api/v1/services", headers=citizen)).status_code == 403
    agent = await login(client, "agent.proprete.roubaix@demo.local")
    services = (await client.get("/api/v1/services", headers=agent)).json()
    assert {"name": "Voirie", "authority": "Métropole Européenne de Lille"}.items() <= next(
        s for s in services if s["authority"] == "Métropole Européenne de Lille"
        and s["name"] == "Voirie"
    ).items()  # fmt: skip
    assert all("email" not in s for s in services)


async def test_service_webhook_payload_has_the_ticket_not_the_reporter(client, session):
    await session.execute(
        text("UPDATE service SET webhook_url = 'http://127.0.0.1:9/hook' WHERE slug = 'proprete' "
             "AND authority_id = (SELECT id FROM authority WHERE slug = 'roubaix')")
    )  # fmt: skip
    body = await new_ticket(client, email="privee@example.org", first_name="Claude")
    agent = await login(client, "agent.proprete.roubaix@demo.local")
    await client.post(f"/api/v1/signalements/{body['id']}/transitions",
                      json={"to": "acknowledged", "note": "Vu"}, headers=agent)  # fmt: skip
    rows = (
        await session.execute(
            text("SELECT payload FROM notification_outbox WHERE channel = 'webhook' "
                 "AND event_key LIKE :k ORDER BY id"),
            {"k": f"signalement:{body['id']}:%"},
        )
    ).scalars().all()  # fmt: skip
    assert [r["event"] for r in rows] == ["signalement.state", "signalement.state"]
    first, second = rows[0]["data"], rows[1]["data"]
    assert first["state"] == "routed" and second["state"] == "acknowledged"
    for data in (first, second):  # read back, or known at intake: the same ticket
        assert data["category"] == "Propreté, dépôt sauvage, tags"
        assert data["location"] == {"type": "Point", "coordinates": list(ROUBAIX)}
        assert data["explanation"] == body["explanation"]
    assert "privee" not in str(rows) and "Claude" not in str(rows)
