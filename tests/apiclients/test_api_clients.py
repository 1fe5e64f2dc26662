"""Open311 API clients: keys as data (hash only), scoped to an authority or some of its
services, revocable, managed by the authority's administrators and by the CLI."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import psycopg
import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from typer.testing import CliRunner

from carto.app import create_app
from carto.db import get_session
from tests.conftest import login

BASE = "/open311/v2/requests.json"
ADMIN = "/api/v1/admin/api-clients"
ROUBAIX_PROPRETE = (50.6916, 3.1779, "proprete")  # Roubaix's own service
MEL_VOIRIE = (50.6365, 3.0635, "voirie")  # the MEL's service
MEL_DECHETS = (50.6916, 3.1779, "dechets")  # the MEL's service, in Roubaix


async def scalar(session, sql: str, **params):  # type: ignore[no-untyped-def]
    return (await session.execute(text(sql), params)).scalar()


async def authority_id(session, slug: str) -> int:
    return await scalar(session, "SELECT id FROM authority WHERE slug = :s", s=slug)


async def service_id(session, authority: str, slug: str) -> int:
    return await scalar(
        session,
        "SELECT s.id FROM service s JOIN authority a ON a.id = s.authority_id"
        " WHERE a.slug = :a AND s.slug = :s",
        a=authority, s=slug,
    )  # fmt: skip


async def post(client, point, **extra):  # type: ignore[no-untyped-def]
    lat, lon, code = point
    body = {"lat": lat, "long": lon, "service_code": code, "description": "Clé", **extra}
    return await client.post(BASE, data=body)


async def new_client(client, session, headers, *, services=(), authority="mel"):  # type: ignore[no-untyped-def]
    ids = [await service_id(session, authority, s) for s in services]
    body = {"name": "Appli <b>test</b>", "authority_id": await authority_id(session, authority),
            "service_ids": ids}  # fmt: skip
    resp = await client.post(ADMIN, json=body, headers=headers)
    assert resp.status_code == 201, resp.text
    return resp.json()


async def test_created_key_is_shown_once_and_stored_as_a_hash(client, session):
    headers = await login(client, "admin@demo.local")
    created = await new_client(client, session, headers, services=["voirie"])
    key = created["key"]
    assert key.startswith("c311_") and len(key) >= 40 and key.startswith(created["key_prefix"])
    assert created["name"] == "Appli <b>test</b>"  # stored as text, byte-identical
    assert [s["slug"] for s in created["services"]] == ["voirie"]
    stored = await scalar(session, "SELECT to_jsonb(c)::text FROM api_client c WHERE id = :i",
                          i=created["id"])  # fmt: skip
    assert key not in stored and hashlib.sha256(key.encode()).hexdigest() in stored
    listed = (await client.get(ADMIN, headers=headers)).json()
    mine = [c for c in listed if c["id"] == created["id"]]
    assert len(mine) == 1 and "key" not in mine[0] and key not in str(listed)


async def test_service_key_files_only_requests_routed_to_its_service(client, session):
    headers = await login(client, "admin@demo.local")
    key = (await new_client(client, session, headers, services=["voirie"]))["key"]
    before = await scalar(session, "SELECT count(*) FROM signalement")
    resp = await post(client, MEL_VOIRIE, api_key=key)
    assert resp.status_code == 201, resp.text
    for point in (MEL_DECHETS, ROUBAIX_PROPRETE):  # another MEL service, another authority
        refused = await post(client, point, api_key=key)
        assert refused.status_code == 403, refused.text
        description = refused.json()[0]["description"]
        assert "hors du périmètre de la clé" in description and "Rien n'a été" in description
    assert await scalar(session, "SELECT count(*) FROM signalement") == before + 1
    used = await scalar(session, "SELECT last_used_at FROM api_client WHERE key_prefix = :p",
                        p=key[:11])  # fmt: skip
    assert used is not None


async def test_authority_key_covers_every_service_of_its_authority(client, session):
    headers = await login(client, "admin@demo.local")
    key = (await new_client(client, session, headers))["key"]
    assert (await post(client, MEL_VOIRIE, api_key=key)).status_code == 201
    assert (await post(client, MEL_DECHETS, api_key=key)).status_code == 201
    resp = await post(client, ROUBAIX_PROPRETE, api_key=key)
    assert resp.status_code == 403 and "Roubaix" in resp.json()[0]["description"]
    # JSON bodies and the query string carry the key too
    lat, lon, code = ROUBAIX_PROPRETE
    body = {"lat": lat, "long": lon, "service_code": code, "description": "x", "api_key": key}
    assert (await client.post(BASE, json=body)).status_code == 403
    assert (
        await client.post(f"{BASE}?api_key={key}", json={**body, "api_key": None})
    ).status_code == 403


async def test_revoked_key_is_refused(client, session):
    headers = await login(client, "admin@demo.local")
    created = await new_client(client, session, headers)
    resp = await client.post(f"{ADMIN}/{created['id']}/revoke", headers=headers)
    assert resp.status_code == 200 and resp.json()["revoked_at"]
    again = await client.post(f"{ADMIN}/{created['id']}/revoke", headers=headers)
    assert again.json()["revoked_at"] == resp.json()["revoked_at"]  # idempotent
    before = await scalar(session, "SELECT count(*) FROM signalement")
    refused = await post(client, MEL_VOIRIE, api_key=created["key"])
    assert refused.status_code == 403 and "révoquée" in refused.json()[0]["description"]
    assert await scalar(session, "SELECT count(*) FROM signalement") == before


async def test_unknown_key_is_anonymous_when_keys_are_optional(client):
    """The demo accepts anonymous reports (contract): a stray key grants nothing more."""
    assert (await post(client, MEL_VOIRIE, api_key="xyz")).status_code == 201
    assert (await post(client, MEL_VOIRIE)).status_code == 201


@pytest.fixture
async def keyed_client(settings, session) -> AsyncIterator[AsyncClient]:
    """A deployment that requires a key (CARTO_OPEN311_REQUIRE_API_KEY=true)."""
    app = create_app(settings.model_copy(update={"open311_require_api_key": True}))

    async def _session() -> AsyncIterator:
        yield session

    app.dependency_overrides[get_session] = _session
    app.state.engine = session.bind
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as ac:
        yield ac


async def test_required_keys_refuse_anonymous_and_unknown(keyed_client, session):
    headers = await login(keyed_client, "admin@demo.local")
    key = (await new_client(keyed_client, session, headers, services=["voirie"]))["key"]
    for extra in ({}, {"api_key": "xyz"}, {"api_key": key[:-1]}, {"api_key": "k" * 5000}):
        resp = await post(keyed_client, MEL_VOIRIE, **extra)
        assert resp.status_code == 403 and "api_key" in resp.json()[0]["description"]
    assert (await post(keyed_client, MEL_VOIRIE, api_key=key)).status_code == 201
    assert (await post(keyed_client, ROUBAIX_PROPRETE, api_key=key)).status_code == 403


async def _admin_of_roubaix(client, session) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from carto.accounts.models import RoleGrant
    from carto.accounts.service import make_user

    user = make_user(
        email="admin.roubaix@test.local", password="motdepasse", pseudonym="Admin Roubaix",
        grants=[RoleGrant(role="admin", authority_id=await authority_id(session, "roubaix"))],
    )  # fmt: skip
    session.add(user)
    await session.commit()
    return await login(client, "admin.roubaix@test.local", "motdepasse")


async def test_administrators_manage_only_their_authority(client, session):
    mel = await new_client(client, session, await login(client, "admin@demo.local"))
    roubaix = await _admin_of_roubaix(client, session)
    body = {"name": "x", "authority_id": await authority_id(session, "mel")}
    assert (await client.post(ADMIN, json=body, headers=roubaix)).status_code == 403
    assert (await client.post(f"{ADMIN}/{mel['id']}/revoke", headers=roubaix)).status_code == 404
    assert all(
        c["authority"] == "Roubaix" for c in (await client.get(ADMIN, headers=roubaix)).json()
    )
    # a service of another authority cannot be put in a Roubaix key
    body = {"name": "x", "authority_id": await authority_id(session, "roubaix"),
            "service_ids": [await service_id(session, "mel", "voirie")]}  # fmt: skip
    resp = await client.post(ADMIN, json=body, headers=roubaix)
    assert resp.status_code == 422 and "Service" in resp.json()["message"]
    citizen = await login(client, "citoyen@demo.local")
    assert (await client.get(ADMIN, headers=citizen)).status_code == 403
    assert (await client.get(ADMIN)).status_code == 401
    assert (
        await scalar(session, "SELECT revoked_at FROM api_client WHERE id = :i", i=mel["id"])
        is None
    )


def test_cli_create_list_revoke(demo_db, monkeypatch, tmp_path):
    from carto.cli import app
    from carto.settings import get_settings

    monkeypatch.setenv("CARTO_DATABASE_URL", demo_db)
    monkeypatch.setenv("CARTO_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        made = runner.invoke(app, ["api-client", "create", "Guichet", "--authority", "mel",
                                   "--service", "voirie", "--service", "dechets"])  # fmt: skip
        assert made.exit_code == 0, made.output
        key = made.stdout.strip().splitlines()[-1]
        assert key.startswith("c311_")
        bad = runner.invoke(app, ["api-client", "create", "x", "--authority", "nulle-part"])
        assert bad.exit_code == 2 and "inconnue" in bad.output
        listed = runner.invoke(app, ["api-client", "list"])
        assert listed.exit_code == 0 and key not in listed.stdout and "Guichet" in listed.stdout
        with psycopg.connect(demo_db) as conn:
            row = conn.execute(
                "SELECT id, key_hash, (SELECT count(*) FROM api_client_service s"
                " WHERE s.client_id = c.id) FROM api_client c WHERE name = 'Guichet'"
            ).fetchone()
        assert row is not None and row[1] == hashlib.sha256(key.encode()).hexdigest()
        assert row[2] == 2
        revoked = runner.invoke(app, ["api-client", "revoke", str(row[0])])
        assert revoked.exit_code == 0, revoked.output
        with psycopg.connect(demo_db) as conn:
            assert conn.execute("SELECT revoked_at FROM api_client WHERE id = %s",
                                (row[0],)).fetchone()[0] is not None  # fmt: skip
    finally:
        get_settings.cache_clear()
        with psycopg.connect(demo_db) as conn:
            conn.execute("DELETE FROM api_client WHERE name = 'Guichet'")


async def test_scoped_key_report_is_routed_once(client, session, monkeypatch):
    """The scope check's routing decision is the one stored: one routing query a report."""
    import carto.signalements.open311 as open311
    import carto.signalements.service as service

    calls: list[str] = []
    real = open311.resolve

    async def counted(**kwargs):  # type: ignore[no-untyped-def]
        calls.append(kwargs["category_code"])
        return await real(**kwargs)

    monkeypatch.setattr(open311, "resolve", counted)
    monkeypatch.setattr(service, "resolve", counted)
    headers = await login(client, "admin@demo.local")
    key = (await new_client(client, session, headers, services=["voirie"]))["key"]
    resp = await post(client, MEL_VOIRIE, api_key=key)
    assert resp.status_code == 201, resp.text
    assert calls == ["voirie"]
    stored = await scalar(session, "SELECT s.name FROM signalement t JOIN service s"
                          " ON s.id = t.service_id WHERE t.id = :i",
                          i=int(resp.json()[0]["service_request_id"]))  # fmt: skip
    assert stored == "Voirie"
    assert (await post(client, ROUBAIX_PROPRETE)).status_code == 201  # anonymous: intake routes
    assert calls == ["voirie", "proprete"]
