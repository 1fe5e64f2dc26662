"""RGPD rights: data export, account deletion (anonymised), the processing register."""

from __future__ import annotations

from tests.conftest import login


async def test_export_contains_the_account(client):
    headers = await login(client, "citoyen@demo.local")
    resp = await client.get("/api/v1/me/export", headers=headers)
    assert resp.status_code == 200
    data = resp.json()
    assert data["compte"]["email"] == "citoyen@demo.local"
    assert data["compte"]["roles"] == [
        {"role": "citizen", "service_id": None, "authority_id": None}
    ]
    assert (await client.get("/api/v1/me/export")).status_code == 401


async def test_delete_account_scrubs_and_blocks(client):
    body = {"email": "partant@example.org", "pseudonym": "Partant", "password": "leaving-now"}
    assert (await client.post("/api/v1/auth/signup", json=body)).status_code == 202
    headers = await login(client, "partant@example.org", "leaving-now")
    me = (await client.get("/api/v1/me", headers=headers)).json()
    wrong = await client.post("/api/v1/me/delete", json={"password": "nope"}, headers=headers)
    assert wrong.status_code == 401
    resp = await client.post("/api/v1/me/delete", json={"password": "leaving-now"}, headers=headers)
    assert resp.status_code == 200
    # The token no longer works, nor the password; the e-mail is gone from the database.
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 401
    form = {"username": "partant@example.org", "password": "leaving-now"}
    assert (await client.post("/api/v1/auth/token", data=form)).status_code == 401
    admin = await login(client, "admin@demo.local")
    assert me["id"]
    assert (await client.get("/api/v1/me", headers=admin)).json()["email"] == "admin@demo.local"


async def test_processing_register_json_and_page(client):
    resp = await client.get("/api/v1/rgpd/registre")
    assert resp.status_code == 200
    names = [p["name"] for p in resp.json()]
    assert "Comptes des participants" in names
    # the features' providers, registered by the wiring (carto.wiring), not by an import
    assert {"Signalements", "Contributions aux concertations"} <= set(names)
    page = await client.get("/rgpd")
    assert page.status_code == 200 and "Registre des traitements" in page.text
    assert "<script" not in page.text
