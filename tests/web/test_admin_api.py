"""`/api/v1/admin/authorities`: what the administration screens offer as organisers."""

from __future__ import annotations

from tests.conftest import login


async def test_admin_sees_the_authorities_they_administer(client):
    admin = await login(client, "admin@demo.local")
    resp = await client.get("/api/v1/admin/authorities", headers=admin)
    assert resp.status_code == 200
    by_slug = {a["slug"]: a for a in resp.json()}
    assert by_slug["mel"]["kind"] == "intercommunalite" and by_slug["mel"]["name"]
    assert by_slug["roubaix"] == {**by_slug["roubaix"], "kind": "commune", "code": "59512"}
    assert {"lyon-metropole", "gpso"} <= by_slug.keys()


async def test_others_are_refused(client):
    assert (await client.get("/api/v1/admin/authorities")).status_code == 401
    citizen = await login(client, "citoyen@demo.local")
    resp = await client.get("/api/v1/admin/authorities", headers=citizen)
    assert resp.status_code == 403 and resp.json()["message"]
