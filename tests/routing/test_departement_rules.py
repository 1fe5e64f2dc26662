"""A département's administrators author rules at the `departement` level, like a commune's
or an EPCI's: created, listed, versioned, and a report on a route départementale follows
the confirmed rule; nobody else may hand tickets to the département."""

from __future__ import annotations

from sqlalchemy import text

from carto.accounts.models import RoleGrant
from carto.accounts.service import make_user
from tests.conftest import login

BOULOGNE = "92012"  # Grand Paris Seine Ouest (voirie: the EPT, in the demo table)
RULES = "/api/v1/admin/competences"


async def _scalar(session, sql: str, **params: object):
    return (await session.execute(text(sql), params)).scalar_one()


async def _hauts_de_seine(session) -> int:
    """The département of the GPSO communes, as `carto import france` shapes it."""
    authority = await _scalar(
        session,
        "INSERT INTO authority (slug, name, kind, code) VALUES ('departement-des-hauts-de-seine',"
        " 'Département des Hauts-de-Seine', 'departement', '92') RETURNING id",
    )
    await session.execute(
        text(
            "INSERT INTO departement (code, nom, region_code, siren, authority_id, geom) "
            "SELECT '92', 'Hauts-de-Seine', '11', '229200506', :a, ST_Multi(ST_Union(geom)) "
            "FROM commune WHERE departement = '92'"
        ),
        {"a": authority},
    )
    return int(authority)


async def _admin(session, client, email: str, authority_id: int) -> dict[str, str]:
    user = make_user(email=email, password="secret-pw", pseudonym=email.split("@")[0],
                     grants=[RoleGrant(role="admin", authority_id=authority_id)])  # fmt: skip
    session.add(user)
    await session.flush()
    return await login(client, email, "secret-pw")


async def _point(session, insee: str) -> tuple[float, float]:
    row = (
        await session.execute(
            text("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM commune "
                 "WHERE insee = :i) s"), {"i": insee},
        )
    ).one()  # fmt: skip
    return float(row[0]), float(row[1])


RULE = {"category": "voirie", "level": "departement", "scope_kind": "departement",
        "scope_code": "92", "road_class": "departementale",
        "note": "Routes départementales (délibération du conseil départemental)"}  # fmt: skip


async def test_departement_admin_authors_a_rule_that_routes_reports_on_its_roads(client, session):
    dep = await _hauts_de_seine(session)
    headers = await _admin(session, client, "routes@hauts-de-seine.test", dep)
    resp = await client.post(
        "/api/v1/admin/services",
        json={"authority_id": dep, "name": "Routes départementales", "slug": "voirie"},
        headers=headers,
    )
    assert resp.status_code == 201, resp.text
    resp = await client.post(RULES, json=RULE, headers=headers)
    assert resp.status_code == 201, resp.text
    made = resp.json()
    assert (made["level"], made["scope_code"], made["source"]) == ("departement", "92", "admin")
    listed = (await client.get(RULES, headers=headers)).json()
    assert [r["id"] for r in listed] == [made["id"]]  # the GPSO table is not the département's

    # A report next to a route départementale in Boulogne goes to the département by its
    # confirmed rule; 90 m away, on a street of the commune, the GPSO's table applies.
    lon, lat = await _point(session, BOULOGNE)
    await session.execute(
        text(
            "INSERT INTO street_segment (osm_id, name, ref, highway, road_class, geom) VALUES "
            "(1, 'Avenue du Général Leclerc', 'D 910', 'primary', 'departementale', "
            "ST_SetSRID(ST_MakeLine(ST_MakePoint(:x - 0.001, :y), ST_MakePoint(:x + 0.001, :y)),"
            " 4326))"
        ),
        {"x": lon, "y": lat},
    )
    body = {"lon": lon, "lat": lat, "service_code": "voirie", "description": "Nid-de-poule"}
    resp = await client.post("/api/v1/signalements", json=body)
    assert resp.status_code == 201, resp.text
    ticket = resp.json()
    routed = await session.execute(
        text("SELECT s.authority_id, s.rule_id, r.source FROM signalement s "
             "JOIN competence_rule r ON r.id = s.rule_id WHERE s.id = :i"), {"i": ticket["id"]},
    )  # fmt: skip
    assert tuple(routed.one()) == (dep, made["id"], "admin")
    for words in ("de compétence départementale", "Avenue du Général Leclerc",
                  "Département des Hauts-de-Seine"):  # fmt: skip
        assert words in ticket["explanation"], words
    assert "règle par défaut" not in ticket["explanation"]
    away = await client.get(
        "/api/v1/routing/preview",
        params={"lon": lon, "lat": lat + 0.0008, "service_code": "voirie"},
    )
    assert away.json()["authority"]["name"] == "Grand Paris Seine Ouest"  # fmt: skip

    # A new version (a new vote) keeps the level; the old one is closed at its start.
    resp = await client.patch(f"{RULES}/{made['id']}", json={"note": "Délibération de 2027"},
                              headers=headers)  # fmt: skip
    assert resp.status_code == 200, resp.text
    version = resp.json()
    assert (version["level"], version["replaces_id"]) == ("departement", made["id"])


async def test_only_the_departement_hands_tickets_to_itself(client, session):
    dep = await _hauts_de_seine(session)
    boulogne = await _scalar(session, "SELECT authority_id FROM commune WHERE insee = :i",
                             i=BOULOGNE)  # fmt: skip
    headers = await _admin(session, client, "maire@boulogne.test", boulogne)
    before = await _scalar(session, "SELECT count(*) FROM competence_rule")
    resp = await client.post(RULES, json=RULE, headers=headers)
    assert resp.status_code == 403 and "aucune collectivité concernée" in resp.json()["message"]
    own = {**RULE, "scope_kind": "commune", "scope_code": BOULOGNE}  # its ground, not its roads
    resp = await client.post(RULES, json=own, headers=headers)
    assert resp.status_code == 403
    assert resp.json()["message"] == (
        "Vous n'administrez pas le département à qui cette règle confie les signalements."
    )
    # Where no département is loaded (the Nord, in the demo) the level names nobody.
    roubaix = await _scalar(session, "SELECT authority_id FROM commune WHERE insee = '59512'")
    headers = await _admin(session, client, "maire@roubaix.test", roubaix)
    resp = await client.post(RULES, json={**own, "scope_code": "59512"}, headers=headers)
    assert resp.status_code == 422 and "Aucun département n'est chargé" in resp.json()["message"]
    # A level the API does not know is a 422 in French, not a 500.
    headers = await _admin(session, client, "routes2@hauts-de-seine.test", dep)
    resp = await client.post(RULES, json={**RULE, "level": "etat"}, headers=headers)
    assert resp.status_code == 422 and resp.json()["message"]
    assert await _scalar(session, "SELECT count(*) FROM competence_rule") == before
