"""Sign-up with e-mail verification, password reset, login back-off."""

from __future__ import annotations

import re

from sqlalchemy import text

from tests.conftest import login


async def outbox_mails(session, to: str) -> list[str]:
    rows = await session.execute(
        text("SELECT payload::text FROM notification_outbox WHERE recipient = :to ORDER BY id"),
        {"to": to},
    )
    return [r[0] for r in rows]


def link_token(payload: str) -> str:
    match = re.search(r"token=([A-Za-z0-9_.\-]+)", payload)
    assert match, payload
    return match.group(1)


async def test_signup_verify_and_login(client, session):
    body = {"email": "Nouvelle@Example.org", "pseudonym": "Nouvelle", "password": "s3cret-pass"}
    resp = await client.post("/api/v1/auth/signup", json=body)
    assert resp.status_code == 202
    mails = await outbox_mails(session, "nouvelle@example.org")
    assert len(mails) == 1 and "Confirmez" in mails[0]
    headers = await login(client, "nouvelle@example.org", "s3cret-pass")
    me = (await client.get("/api/v1/me", headers=headers)).json()
    assert me["email_verified"] is False and me["pseudonym"] == "Nouvelle"
    assert [r["role"] for r in me["roles"]] == ["citizen"]

    bad = await client.get("/api/v1/auth/verify", params={"token": "x" * 20})
    assert bad.status_code == 400
    ok = await client.get("/api/v1/auth/verify", params={"token": link_token(mails[0])})
    assert ok.status_code == 200 and "confirmée" in ok.text
    me = (await client.get("/api/v1/me", headers=headers)).json()
    assert me["email_verified"] is True


async def test_signup_does_not_reveal_existing_accounts(client, session):
    body = {"email": "citoyen@demo.local", "pseudonym": "Autre", "password": "another-pass"}
    resp = await client.post("/api/v1/auth/signup", json=body)
    fresh = await client.post(
        "/api/v1/auth/signup",
        json={"email": "fresh@example.org", "pseudonym": "Fresh", "password": "another-pass"},
    )
    assert resp.status_code == fresh.status_code == 202
    assert resp.json() == fresh.json()
    # The owner is told; the password is unchanged.
    assert any("existe déjà" in m for m in await outbox_mails(session, "citoyen@demo.local"))
    await login(client, "citoyen@demo.local", "demo")


async def test_signup_validation(client):
    cases = [
        {"email": "not-an-email", "pseudonym": "Ok", "password": "longenough"},
        {"email": "a@example.org", "pseudonym": "Ok", "password": "short"},
        {"email": "a@example.org", "pseudonym": "jean@example.org", "password": "longenough"},
        {"email": "a@example.org", "pseudonym": "06 12 34 56 78", "password": "longenough"},
    ]
    for body in cases:
        resp = await client.post("/api/v1/auth/signup", json=body)
        assert resp.status_code == 422, body
        assert resp.json()["message"]


async def test_password_reset_once(client, session):
    resp = await client.post("/api/v1/auth/password-reset", json={"email": "citoyen@demo.local"})
    unknown = await client.post("/api/v1/auth/password-reset", json={"email": "x@example.org"})
    assert resp.status_code == unknown.status_code == 202 and resp.json() == unknown.json()
    mails = [m for m in await outbox_mails(session, "citoyen@demo.local") if "Réinitial" in m]
    token = link_token(mails[-1])
    confirm = {"token": token, "password": "brand-new-pass"}
    assert (
        await client.post("/api/v1/auth/password-reset/confirm", json=confirm)
    ).status_code == 200
    await login(client, "citoyen@demo.local", "brand-new-pass")
    # The link works once: the password fingerprint it was bound to has changed.
    again = await client.post("/api/v1/auth/password-reset/confirm", json=confirm)
    assert again.status_code == 422


async def test_back_off_after_repeated_failures(client):
    """Three failures from one address slow that (account, address) pair down: even the
    right password waits (429, Retry-After). The owner elsewhere is not locked out
    (tests/security/test_accounts.py, over HTTP from two addresses)."""
    form = {"username": "agent.voirie.mel@demo.local", "password": "wrong"}
    for _ in range(3):
        assert (await client.post("/api/v1/auth/token", data=form)).status_code == 401
    locked = await client.post(
        "/api/v1/auth/token", data={"username": form["username"], "password": "demo"}
    )
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    assert "Trop de tentatives" in locked.json()["message"]
