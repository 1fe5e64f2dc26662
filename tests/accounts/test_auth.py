"""Token flow (OAuth2 password), expiry, and role refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

from tests.conftest import login


async def test_token_flow_and_me(client):
    headers = await login(client, "citoyen@demo.local")
    resp = await client.get("/api/v1/me", headers=headers)
    assert resp.status_code == 200
    body = resp.json()
    assert body["email"] == "citoyen@demo.local"
    assert [r["role"] for r in body["roles"]] == ["citizen"]
    assert "password_hash" not in resp.text


async def test_token_response_shape(client):
    resp = await client.post(
        "/api/v1/auth/token", data={"username": "ADMIN@demo.local ", "password": "demo"}
    )
    assert resp.status_code == 200
    body = resp.json()
    assert body["token_type"] == "bearer" and body["access_token"].count(".") == 2


async def test_wrong_password_and_unknown_user_refused(client):
    for username, password in [("citoyen@demo.local", "nope"), ("nobody@demo.local", "demo")]:
        resp = await client.post(
            "/api/v1/auth/token", data={"username": username, "password": password}
        )
        assert resp.status_code == 401
        assert resp.json()["message"] == "Adresse e-mail ou mot de passe incorrect."


async def test_missing_bad_and_expired_tokens(client, settings):
    assert (await client.get("/api/v1/me")).status_code == 401
    bad = {"Authorization": "Bearer not.a.token"}
    assert (await client.get("/api/v1/me", headers=bad)).status_code == 401
    past = datetime.now(UTC) - timedelta(hours=1)
    expired = jwt.encode(
        {"sub": "1", "typ": "access", "iat": past, "exp": past + timedelta(minutes=1)},
        settings.secret_key,
        algorithm="HS256",
    )
    resp = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {expired}"})
    assert resp.status_code == 401
    forged = jwt.encode(
        {"sub": "1", "typ": "access", "exp": datetime.now(UTC) + timedelta(hours=1)},
        "another-key-that-is-long-enough-for-hs256",
        algorithm="HS256",
    )
    resp = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"})
    assert resp.status_code == 401


async def test_admin_route_refuses_citizen_and_agent(client):
    assert (await client.get("/api/v1/admin/services")).status_code == 401
    for email in ("citoyen@demo.local", "agent.voirie.mel@demo.local"):
        headers = await login(client, email)
        resp = await client.get("/api/v1/admin/services", headers=headers)
        assert resp.status_code == 403, email


async def test_admin_sees_services_of_its_authorities(client):
    headers = await login(client, "admin@demo.local")
    resp = await client.get("/api/v1/admin/services", headers=headers)
    assert resp.status_code == 200
    services = {(s["authority"], s["slug"]) for s in resp.json()}
    assert ("Métropole Européenne de Lille", "voirie") in services
    assert ("Roubaix", "proprete") in services
    assert ("Métropole de Lyon", "proprete") in services
    # competence table: MEL communes own proprete, the MEL does not
    assert ("Métropole Européenne de Lille", "proprete") not in services
    assert ("Lyon", "proprete") not in services


async def test_categories_are_public(client):
    resp = await client.get("/api/v1/categories")
    assert resp.status_code == 200
    codes = [c["code"] for c in resp.json()]
    assert codes == ["voirie", "dechets", "proprete", "eclairage", "espaces-verts", "mobilier"]
