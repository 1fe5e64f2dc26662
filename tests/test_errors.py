"""Inputs the database cannot take are the client's error (4xx), never a 500."""

from __future__ import annotations


async def test_out_of_range_id_is_a_client_error(client):
    resp = await client.get("/api/v1/signalements/341843259915848581120")
    assert resp.status_code in (404, 422)
    assert resp.json()["message"]


async def test_validation_errors_are_readable_and_do_not_echo_input(client):
    resp = await client.post("/api/v1/auth/signup", json={"email": "<script>", "password": 1})
    assert resp.status_code == 422
    body = resp.json()
    assert body["error"] == "invalid_input" and body["message"].startswith("Requête invalide")
    assert "<script>" not in resp.text
    assert {e["field"] for e in body["errors"]} >= {"email", "password", "pseudonym"}
