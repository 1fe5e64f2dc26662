"""Administrators list, create and edit the services of their authorities."""

from __future__ import annotations

from sqlalchemy import text

from carto.credentials import hash_password
from tests.conftest import login


async def _authority(session, slug: str) -> int:
    return int(await session.scalar(text("SELECT id FROM authority WHERE slug = :s"), {"s": slug}))


async def test_admin_creates_then_edits_a_service(client, session):
    admin = await login(client, "admin@demo.local")
    mel = await _authority(session, "mel")
    body = {"authority_id": mel, "name": "Mobilités douces", "email": "velo@mel.example"}
    made = await client.post("/api/v1/admin/services", json=body, headers=admin)
    assert made.status_code == 201, made.text
    svc = made.json()
    assert svc["slug"] == "mobilites-douces" and svc["email"] == "velo@mel.example"
    listed = await client.get("/api/v1/admin/services", headers=admin)
    assert any(s["id"] == svc["id"] for s in listed.json())
    edit = {"name": "Mobilités actives", "email": None, "webhook_url": "https://mel.example/h"}
    resp = await client.patch(f"/api/v1/admin/services/{svc['id']}", json=edit, headers=admin)
    assert resp.status_code == 200, resp.text
    got = resp.json()
    assert (got["name"], got["slug"], got["email"], got["webhook_url"]) == (
        "Mobilités actives", "mobilites-douces", None, "https://mel.example/h",
    )  # fmt: skip
    again = await client.post("/api/v1/admin/services", json=body, headers=admin)
    assert again.status_code == 409


async def test_service_refusals_store_nothing(client, session):
    admin = await login(client, "admin@demo.local")
    agent = await login(client, "agent.voirie.mel@demo.local")
    mel = await _authority(session, "mel")
    count = "SELECT count(*) FROM service"
    before = await session.scalar(text(count))
    bad = [
        {"authority_id": mel, "name": "X"},  # too short
        {"authority_id": mel, "name": "Voirie bis", "email": "pas-un-email"},
        {"authority_id": mel, "name": "Voirie bis", "webhook_url": "ftp://x"},
        {"authority_id": mel, "name": "Voirie bis", "slug": "Pas Un Slug"},
        {"authority_id": 999_999, "name": "Voirie bis"},
    ]
    for body in bad:
        resp = await client.post("/api/v1/admin/services", json=body, headers=admin)
        assert resp.status_code == 422, (body, resp.text)
        assert resp.json()["message"]
    wrong = await client.post(
        "/api/v1/admin/services", json={"authority_id": mel, "name": "Voirie bis"}, headers=agent
    )
    assert wrong.status_code == 403
    assert await session.scalar(text(count)) == before
    missing = await client.patch("/api/v1/admin/services/999999", json={}, headers=admin)
    assert missing.status_code == 404


async def test_an_admin_only_edits_services_of_their_authorities(client, session):
    """A scoped administrator (of Roubaix only) cannot touch the MEL's services."""
    roubaix, mel = await _authority(session, "roubaix"), await _authority(session, "mel")
    user_id = await session.scalar(
        text("INSERT INTO app_user (email, pseudonym, password_hash, email_verified, is_active) "
             "VALUES ('admin.roubaix@test.local', 'AdminRoubaix', :p, true, true) RETURNING id"),
        {"p": hash_password("secret-pass")},
    )  # fmt: skip
    await session.execute(
        text("INSERT INTO role_grant (user_id, role, authority_id) VALUES (:u, 'admin', :a)"),
        {"u": user_id, "a": roubaix},
    )
    scoped = await login(client, "admin.roubaix@test.local", "secret-pass")
    mel_service = await session.scalar(
        text("SELECT id FROM service WHERE authority_id = :a LIMIT 1"), {"a": mel}
    )
    listed = await client.get("/api/v1/admin/services", headers=scoped)
    assert listed.status_code == 200 and {s["authority_id"] for s in listed.json()} == {roubaix}
    resp = await client.patch(
        f"/api/v1/admin/services/{mel_service}", json={"name": "Piraté"}, headers=scoped
    )
    assert resp.status_code == 403
    made = await client.post(
        "/api/v1/admin/services", json={"authority_id": mel, "name": "Piraté"}, headers=scoped
    )
    assert made.status_code == 403
