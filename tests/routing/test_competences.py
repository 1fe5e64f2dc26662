"""The competence table: loaded from the deployment file, edited by administrators."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from carto.accounts.models import RoleGrant
from carto.accounts.service import make_user
from carto.demo.loader import demo_config
from carto.errors import ImportFailed
from carto.routing.competence_config import rules_from_config, upsert_rules
from tests.conftest import login

MEL, LYON, GPSO = "200093201", "200046977", "200057974"


def test_demo_file_gives_the_contract_table_with_informed_communes():
    specs = rules_from_config(demo_config())
    table = {(s.scope_code, s.category): s.level for s in specs}
    assert len(specs) == 18
    assert table[(MEL, "proprete")] == "commune"
    assert table[(LYON, "proprete")] == "intercommunalite"
    assert table[(GPSO, "eclairage")] == "intercommunalite"
    assert table[(LYON, "eclairage")] == "commune"
    informed = {(s.scope_code, s.category): s.inform for s in specs if s.inform}
    assert informed == {
        (LYON, "proprete"): (("commune", "mobilier", None),),
        (GPSO, "proprete"): (("commune", "mobilier", None),),
    }


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"competences": {MEL: {"voirie": "region"}}}, "niveau inconnu"),
        ({"competence_rules": [{"category": "voirie", "scope": {"canton": "1"}}]}, "portée"),
        ({"competence_rules": [{"category": "voirie", "scope": {"commune": "59512"}}]}, "complète"),
        (
            {"competence_rules": [{"category": "voirie", "scope": "everywhere",
                                   "level": "authority"}]},
            "authority",
        ),
        (
            {"competence_rules": [{"category": "voirie", "scope": {"commune": "59512"},
                                   "level": "commune", "valid_from": "demain"}]},
            "date invalide",
        ),
    ],
)  # fmt: skip
def test_malformed_files_are_refused_with_a_reason(patch, message):
    config = copy.deepcopy(demo_config())
    config.update(patch)
    with pytest.raises(ImportFailed, match=message):
        rules_from_config(config)


def test_demo_rules_are_loaded_once_and_reloading_changes_nothing(sync_conn):
    count = sync_conn.execute(
        "SELECT count(*) FROM competence_rule WHERE source = 'deployment'"
    ).fetchone()[0]
    assert count == 18
    assert upsert_rules(sync_conn, rules_from_config(demo_config())) == 0
    domain = sync_conn.execute("SELECT domain FROM category WHERE code = 'eclairage'").fetchone()
    assert domain == ("l'éclairage public",)


def test_demo_services_and_agents_are_those_of_the_table(sync_conn):
    own = "SELECT count(*) FROM service WHERE slug <> 'contact'"  # not the front desks
    services = sync_conn.execute(own).fetchone()[0]
    members = dict(
        sync_conn.execute(
            "SELECT siren, count(*) FROM intercommunalite_member GROUP BY siren"
        ).fetchall()
    )
    communal = {MEL: 4, LYON: 3, GPSO: 2}
    expected = sum(members[s] * n + (6 - n) for s, n in communal.items())
    assert services == expected
    agents = sync_conn.execute("SELECT count(*) FROM role_grant WHERE role = 'agent'").fetchone()[0]
    assert agents == expected


def test_a_closed_deployment_rule_is_not_reopened_by_a_reload(sync_conn):
    sync_conn.execute(
        "UPDATE competence_rule SET valid_to = now() - interval '1 day', "
        "valid_from = now() - interval '2 days' "
        "WHERE scope_code = %s AND category_code = 'voirie'",
        (MEL,),
    )
    specs = rules_from_config(demo_config())
    assert upsert_rules(sync_conn, specs) == 1  # valid_from differs: the file's rule is new
    rows = sync_conn.execute(
        "SELECT valid_to IS NULL FROM competence_rule WHERE scope_code = %s "
        "AND category_code = 'voirie' ORDER BY id",
        (MEL,),
    ).fetchall()
    assert rows == [(False,), (True,)]


async def _admin_of(session, slug: str) -> dict[str, str]:
    authority_id = (
        await session.execute(text("SELECT id FROM authority WHERE slug = :s"), {"s": slug})
    ).scalar_one()
    user = make_user(
        email=f"admin-{slug}@test.local",
        password="secret-pw",
        pseudonym=f"Admin {slug}",
        grants=[RoleGrant(role="admin", authority_id=authority_id)],
    )
    session.add(user)
    await session.flush()
    return {"email": user.email, "password": "secret-pw"}


async def test_admin_creates_edits_and_closes_a_rule(client):
    admin = await login(client, "admin@demo.local")
    rule = {
        "category": "voirie",
        "level": "commune",
        "scope_kind": "commune",
        "scope_code": "59512",
        "note": "Voirie communale transférée (test)",
    }
    resp = await client.post("/api/v1/admin/competences", json=rule, headers=admin)
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert created["source"] == "admin" and created["active"] is True
    assert created["service_slug"] == "voirie"

    later = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    resp = await client.patch(
        f"/api/v1/admin/competences/{created['id']}",
        json={"service_slug": "mobilier", "valid_from": later},
        headers=admin,
    )
    assert resp.status_code == 200, resp.text
    version = resp.json()
    assert version["replaces_id"] == created["id"]
    assert version["service_slug"] == "mobilier" and version["active"] is False

    listed = await client.get(
        "/api/v1/admin/competences?category=voirie&include_closed=true", headers=admin
    )
    by_id = {r["id"]: r for r in listed.json()}
    assert by_id[created["id"]]["valid_to"] is not None
    assert by_id[created["id"]]["active"] is True  # still in force until the new version

    resp = await client.delete(f"/api/v1/admin/competences/{version['id']}", headers=admin)
    assert resp.status_code == 422  # closing before the version even starts
    resp = await client.delete(f"/api/v1/admin/competences/{created['id']}", headers=admin)
    assert resp.status_code == 200
    resp = await client.delete(f"/api/v1/admin/competences/{created['id']}", headers=admin)
    assert resp.status_code == 409


async def test_only_administrators_of_a_concerned_authority_may_edit(client, session):
    rule = {"category": "voirie", "level": "commune", "scope_kind": "commune",
            "scope_code": "69266"}  # fmt: skip
    assert (await client.post("/api/v1/admin/competences", json=rule)).status_code == 401
    agent = await login(client, "agent.voirie.mel@demo.local")
    resp = await client.post("/api/v1/admin/competences", json=rule, headers=agent)
    assert resp.status_code == 403

    roubaix = await _admin_of(session, "roubaix")
    headers = await login(client, roubaix["email"], roubaix["password"])
    resp = await client.post("/api/v1/admin/competences", json=rule, headers=headers)
    assert resp.status_code == 403
    assert "aucune collectivité concernée" in resp.json()["message"]
    own = {**rule, "scope_code": "59512"}
    resp = await client.post("/api/v1/admin/competences", json=own, headers=headers)
    assert resp.status_code == 201
    nationwide = {**rule, "scope_kind": "everywhere", "scope_code": None}
    resp = await client.post("/api/v1/admin/competences", json=nationwide, headers=headers)
    assert resp.status_code == 403
    listed = (await client.get("/api/v1/admin/competences", headers=headers)).json()
    # Roubaix's administrator sees the rule they made, not the MEL-wide table.
    assert [r["scope_code"] for r in listed] == ["59512"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"category": "nope", "level": "commune", "scope_kind": "commune", "scope_code": "59512"},
         422),
        ({"category": "voirie", "level": "commune", "scope_kind": "commune", "scope_code": "00000"},
         422),
        ({"category": "voirie", "level": "authority", "scope_kind": "commune",
          "scope_code": "59512"}, 422),
        ({"category": "voirie", "level": "commune", "scope_kind": "commune", "scope_code": "59512",
          "valid_from": "2030-01-01T00:00:00"}, 422),
        ({"category": "voirie", "level": "commune", "scope_kind": "commune", "scope_code": "59512",
          "inform": [{"level": "authority"}]}, 422),
    ],
)  # fmt: skip
async def test_bad_rules_are_refused_and_nothing_is_stored(client, session, body, status):
    admin = await login(client, "admin@demo.local")
    before = (await session.execute(text("SELECT count(*) FROM competence_rule"))).scalar()
    resp = await client.post("/api/v1/admin/competences", json=body, headers=admin)
    assert resp.status_code == status, resp.text
    assert resp.json()["message"]
    after = (await session.execute(text("SELECT count(*) FROM competence_rule"))).scalar()
    assert after == before
