"""Every write route declares who may call it, and refuses everybody else.

The table below lists every write route of the OpenAPI document with what it
needs. A new route that is not in the table fails `test_every_write_route_is_declared`
(no route forgotten). Then each protected route is called anonymously (401) and
by a signed-in caller lacking the role (403), with real ids from the demo data,
and must change nothing. The anonymous call carries a valid token in cookies (the web
app's `carto_session` among them) without the web app's `X-Requested-With` header:
such a cookie does not count, so a cross-site request has no ambient authority (CSRF).
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from carto.app import create_app
from tests.conftest import login

ANONYMOUS = "anonymous"  # open by design (sign-in, sign-up, anonymous reports)
SIGNED_IN = "signed-in"  # any account

# (method, path) -> who may call it; for role routes, the token that must get 403.
ROUTES: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/auth/token"): ANONYMOUS,
    ("POST", "/api/v1/auth/signup"): ANONYMOUS,
    ("POST", "/api/v1/auth/password-reset"): ANONYMOUS,
    ("POST", "/api/v1/auth/password-reset/confirm"): ANONYMOUS,
    ("DELETE", "/api/v1/auth/session"): ANONYMOUS,  # clears the web app's session cookie
    ("POST", "/api/v1/media"): ANONYMOUS,  # photos of anonymous reports (rate-limited)
    ("POST", "/api/v1/signalements"): ANONYMOUS,  # anonymous reports are accepted
    ("POST", "/api/v1/signalements/{signalement_id}/supports"): ANONYMOUS,
    ("POST", "/open311/v2/requests.{ext}"): ANONYMOUS,
    ("POST", "/api/v1/me/delete"): SIGNED_IN,
    ("POST", "/api/v1/auth/logout-all"): SIGNED_IN,
    ("POST", "/api/v1/comments/{comment_id}/reports"): SIGNED_IN,
    ("POST", "/api/v1/contributions/{contribution_id}/reports"): SIGNED_IN,
    ("POST", "/api/v1/concertations/{ref}/contributions"): "citizen",
    ("PUT", "/api/v1/concertations/{ref}/residence"): "citizen",
    ("POST", "/api/v1/contributions/{contribution_id}/comments"): "citizen",
    ("POST", "/api/v1/contributions/{contribution_id}/votes"): "citizen",
    ("DELETE", "/api/v1/contributions/{contribution_id}/votes"): "citizen",
    ("POST", "/api/v1/contributions/{contribution_id}/supports"): "citizen",
    ("DELETE", "/api/v1/contributions/{contribution_id}/supports"): "citizen",
    ("POST", "/api/v1/comments/{comment_id}/moderation"): "moderator",
    ("POST", "/api/v1/contributions/{contribution_id}/moderation"): "moderator",
    ("PUT", "/api/v1/contributions/{contribution_id}/answer"): "admin",
    ("POST", "/api/v1/concertations"): "admin",
    ("PATCH", "/api/v1/concertations/{ref}"): "admin",
    ("POST", "/api/v1/concertations/{ref}/archive"): "admin",
    ("POST", "/api/v1/concertations/{ref}/reference-layers"): "admin",
    ("POST", "/api/v1/admin/competences"): "admin",
    ("PATCH", "/api/v1/admin/competences/{rule_id}"): "admin",
    ("DELETE", "/api/v1/admin/competences/{rule_id}"): "admin",
    ("POST", "/api/v1/admin/api-clients"): "admin",
    ("POST", "/api/v1/admin/api-clients/{client_id}/revoke"): "admin",
    ("POST", "/api/v1/admin/services"): "admin",
    ("PATCH", "/api/v1/admin/services/{service_id}"): "admin",
    ("POST", "/api/v1/signalements/{signalement_id}/transitions"): "agent",
    ("POST", "/api/v1/signalements/{signalement_id}/transfer"): "agent",
    ("POST", "/api/v1/signalements/{signalement_id}/merge"): "agent",
    ("POST", "/api/v1/signalements/{signalement_id}/orientation"): "admin",
    ("POST", "/api/v1/admin/competences/{rule_id}/reroute"): "admin",
    ("PUT", "/api/v1/signalements/{signalement_id}/address"): "agent",
    ("POST", "/api/v1/services/{service_id}/rounds"): "agent",  # or an admin of its authority
    ("PUT", "/api/v1/services/{service_id}/depot"): "admin",
}
WRONG_ROLE = {  # a demo account lacking the needed role
    "citizen": "agent.voirie.mel@demo.local",  # agents hold no citizen role
    "moderator": "citoyen@demo.local",
    "admin": "citoyen@demo.local",
    "agent": "citoyen@demo.local",
}
WRITE_METHODS = {"post", "put", "patch", "delete"}
ID_QUERIES = {
    "signalement_id": "SELECT min(id) FROM signalement",
    "contribution_id": "SELECT min(id) FROM contribution",
    "comment_id": "SELECT min(id) FROM contribution_comment",
    "ref": "SELECT min(id) FROM concertation",
    "rule_id": "SELECT min(id) FROM competence_rule",
    "client_id": "SELECT min(id) FROM api_client",
    "service_id": "SELECT min(id) FROM service",
}
# Snapshot of what a refused call must not change.
FINGERPRINT = """SELECT md5(string_agg(t, '|')) FROM (
    SELECT (SELECT count(*) FROM signalement_event)::text
    UNION ALL SELECT (SELECT count(*) FROM contribution)::text
    UNION ALL SELECT (SELECT count(*) FROM contribution_vote)::text
    UNION ALL SELECT (SELECT count(*) FROM contribution_comment)::text
    UNION ALL SELECT (SELECT count(*) FROM moderation_event)::text
    UNION ALL SELECT (SELECT count(*) FROM competence_rule)::text
    UNION ALL SELECT (SELECT count(*) FROM concertation)::text
    UNION ALL SELECT (SELECT count(*) || ':' || count(revoked_at) FROM api_client)
    UNION ALL SELECT (SELECT string_agg(name, ',' ORDER BY id) FROM service)
    UNION ALL SELECT (SELECT count(*) FROM service_depot)::text
    UNION ALL SELECT (SELECT string_agg(state || ':' || supports || ':' || service_id
                                        || ':' || coalesce(address_label, ''), ','
                                        ORDER BY id) FROM signalement)
    UNION ALL SELECT (SELECT count(*) FROM signalement_support)::text
    UNION ALL SELECT (SELECT count(*) FROM concertation_authority)::text) s(t)"""


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def sample(spec: dict, schema: dict, depth: int = 0):  # type: ignore[no-untyped-def]
    """A minimal value that passes the schema's validation (required fields only)."""
    schema = _resolve(spec, schema)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [o for o in schema[key] if _resolve(spec, o).get("type") != "null"]
            return sample(spec, options[0], depth + 1)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type", "object")
    if kind == "object":
        props = schema.get("properties", {})
        return {
            k: sample(spec, props[k], depth + 1) for k in schema.get("required", []) if k in props
        }
    if kind == "array":
        return [sample(spec, schema["items"], depth + 1)] * schema.get("minItems", 0)
    if schema.get("format") == "date-time":
        return "2030-01-01T00:00:00Z"
    if schema.get("format") == "date":
        return "2030-01-01"
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return True
    return "x" * max(1, schema.get("minLength", 1))


# Bodies the schema alone cannot make meaningful (values checked against the data).
BODIES = {
    ("POST", "/api/v1/signalements/{signalement_id}/transitions"): {"to": "acknowledged"},
    ("POST", "/api/v1/signalements/{signalement_id}/merge"): {"into": "LAST_SIGNALEMENT"},
}


def sample_request(spec: dict, method: str, path: str) -> dict:  # type: ignore[type-arg]
    """httpx keyword arguments for a minimal valid request (JSON or multipart)."""
    if (method, path) in BODIES:
        return {"json": dict(BODIES[(method, path)])}
    content = spec["paths"][path][method.lower()].get("requestBody", {}).get("content", {})
    if "multipart/form-data" in content:
        schema = _resolve(spec, content["multipart/form-data"]["schema"])
        fields = sample(spec, schema)
        files = {
            k: ("x.geojson", b"{}")
            for k, v in schema.get("properties", {}).items()
            if _resolve(spec, v).get("format") == "binary" or "contentMediaType" in v
        }
        return {"data": {k: v for k, v in fields.items() if k not in files}, "files": files}
    schema = content.get("application/json", {}).get("schema")
    body = sample(spec, schema) if schema else {}
    if isinstance(body, dict) and "closes_at" in body:
        body["closes_at"] = "2031-01-01T00:00:00Z"  # after opens_at
    if isinstance(body, dict) and "authorities" in body:
        body["authorities"] = ["mel"]  # a real authority slug
    return {"json": body}


def write_routes(settings) -> set[tuple[str, str]]:
    spec = create_app(settings).openapi()
    return {
        (method.upper(), path)
        for path, ops in spec["paths"].items()
        for method in ops
        if method in WRITE_METHODS
    }


async def test_no_credential_travels_in_a_cookie(client):
    """API clients sign in with no cookie: only the web app (its own header) gets one."""
    resp = await client.post(
        "/api/v1/auth/token", data={"username": "citoyen@demo.local", "password": "demo"}
    )
    assert resp.status_code == 200 and "set-cookie" not in resp.headers
    assert not client.cookies


def test_every_write_route_is_declared(settings):
    routes = write_routes(settings)
    assert routes - ROUTES.keys() == set(), "undeclared write routes: add them to ROUTES"
    assert ROUTES.keys() - routes == set(), "ROUTES lists routes that no longer exist"


async def concrete(session, path: str) -> str:
    if "{client_id}" in path:  # the demo has no API client: make one (rolled back)
        await session.execute(
            text(
                "INSERT INTO api_client (name, key_hash, key_prefix, authority_id)"
                " SELECT 'matrice', md5('matrice') || md5('x'), 'c311_x', min(id) FROM authority"
            )
        )
    for name, query in ID_QUERIES.items():
        if "{" + name + "}" in path:
            value = (await session.execute(text(query))).scalar()
            assert value is not None, f"demo data has no row for {name}"
            path = path.replace("{" + name + "}", str(value))
    assert "{" not in path, path
    return path


PROTECTED = sorted(k for k, v in ROUTES.items() if v != ANONYMOUS)


@pytest.mark.parametrize(("method", "path"), PROTECTED, ids=[f"{m} {p}" for m, p in PROTECTED])
async def test_protected_route_refuses_anonymous_and_wrong_role(
    client, session, settings, method, path
):
    url = await concrete(session, path)
    request = sample_request(create_app(settings).openapi(), method, path)
    if request.get("json", {}).get("into") == "LAST_SIGNALEMENT":
        last = (await session.execute(text("SELECT max(id) FROM signalement"))).scalar()
        request["json"]["into"] = last
    before = (await session.execute(text(FINGERPRINT))).scalar()
    # CSRF: a valid token in a cookie (what a browser would send cross-site) is ignored
    token = (await login(client, "admin@demo.local"))["Authorization"].split()[1]
    names = ("access_token", "token", "carto.token", "session", "carto_session")
    cookies = {name: token for name in names}
    client.cookies.update(cookies)
    try:
        anonymous = await client.request(method, url, **request)
    finally:
        client.cookies.clear()
    assert anonymous.status_code == 401, anonymous.text
    needed = ROUTES[(method, path)]
    if needed in WRONG_ROLE:
        headers = await login(client, WRONG_ROLE[needed])
        wrong = await client.request(method, url, headers=headers, **request)
        assert wrong.status_code == 403, (needed, wrong.text)
    assert (await session.execute(text(FINGERPRINT))).scalar() == before


# --- Actions that name a second object -------------------------------------------------
# A write whose body names another ticket, service, authority or comment must check the
# caller's rights on that object too, not only on the one in the path (finding 3: an
# agent merged their ticket *into* another authority's). Every write route whose body
# has such a field is declared here with a call by an account that has rights on one
# side only; it must be refused and change nothing.
SECOND_OBJECT_FIELDS = {"into", "service_id", "service_ids", "authority_id", "authorities",
                        "parent_id"}  # fmt: skip
MEL_ADMIN = "admin.mel@matrice.local"  # made by the test: administers the MEL only
MEL_AGENT = "agent.voirie.mel@demo.local"
OPEN_TICKET = "s.state NOT IN ('resolved', 'rejected', 'duplicate')"
IDS = {
    "mel": "SELECT id FROM authority WHERE slug = 'mel'",
    "foreign_authority": "SELECT id FROM authority WHERE slug = 'lyon-metropole'",
    "foreign_service": "SELECT min(v.id) FROM service v JOIN authority a ON a.id = v.authority_id"
    " WHERE a.slug = 'lyon-metropole'",
    "own_service": "SELECT min(g.service_id) FROM role_grant g JOIN app_user u ON u.id = g.user_id"
    f" WHERE u.email = '{MEL_AGENT}'",
    "own_ticket": f"SELECT min(s.id) FROM signalement s WHERE {OPEN_TICKET} AND s.service_id ="
    f" (SELECT min(g.service_id) FROM role_grant g JOIN app_user u ON u.id = g.user_id"
    f" WHERE u.email = '{MEL_AGENT}')",
    "foreign_ticket": f"SELECT min(s.id) FROM signalement s JOIN authority a"
    f" ON a.id = s.authority_id WHERE {OPEN_TICKET} AND a.slug = 'lyon-metropole'",
    "comment_elsewhere": "SELECT min(m.id) FROM contribution_comment m WHERE m.contribution_id"
    " <> (SELECT min(id) FROM contribution) AND m.visibility = 'published'",
    "contribution": "SELECT min(id) FROM contribution",
}
# (method, path) -> (actor, concrete path, body, expected status); {name} from IDS.
SECOND_OBJECT: dict[tuple[str, str], tuple[str, str, dict, int]] = {
    ("POST", "/api/v1/signalements/{signalement_id}/merge"): (
        MEL_AGENT, "/api/v1/signalements/{own_ticket}/merge", {"into": "{foreign_ticket}"}, 403,
    ),
    # The target service may be any authority's (a ticket goes to whoever is competent):
    # the foreign case is a foreign ticket sent to the caller's own service.
    ("POST", "/api/v1/signalements/{signalement_id}/transfer"): (
        MEL_AGENT, "/api/v1/signalements/{foreign_ticket}/transfer",
        {"service_id": "{own_service}", "reason": "Chez nous"}, 403,
    ),
    # « À orienter »: another authority's ticket, sent to the caller's own service.
    ("POST", "/api/v1/signalements/{signalement_id}/orientation"): (
        MEL_ADMIN, "/api/v1/signalements/{foreign_ticket}/orientation",
        {"action": "reroute", "service_id": "{own_service}", "reason": "Chez nous"}, 403,
    ),
    ("POST", "/api/v1/admin/services"): (
        MEL_ADMIN, "/api/v1/admin/services",
        {"authority_id": "{foreign_authority}", "name": "Service pirate"}, 403,
    ),
    ("POST", "/api/v1/admin/api-clients"): (
        MEL_ADMIN, "/api/v1/admin/api-clients",
        {"name": "Clé pirate", "authority_id": "{mel}", "service_ids": ["{foreign_service}"]}, 422,
    ),
    ("POST", "/api/v1/admin/competences"): (
        MEL_ADMIN, "/api/v1/admin/competences",
        {"category": "voirie", "level": "authority", "authority_id": "{mel}",
         "scope_kind": "commune", "scope_code": "69123"}, 403,  # Lyon's tickets to the MEL
    ),
    ("PATCH", "/api/v1/admin/competences/{rule_id}"): (
        MEL_ADMIN, "/api/v1/admin/competences/{mel_rule}",
        {"level": "authority", "authority_id": "{foreign_authority}"}, 403,  # pushed onto Lyon
    ),
    ("POST", "/api/v1/concertations"): (
        MEL_ADMIN, "/api/v1/concertations", {"authorities": ["mel", "lyon-metropole"]}, 403,
    ),
    ("POST", "/api/v1/contributions/{contribution_id}/comments"): (
        "citoyen@demo.local", "/api/v1/contributions/{contribution}/comments",
        {"body": "Réponse égarée", "parent_id": "{comment_elsewhere}"}, 422,
    ),
}  # fmt: skip
IDS["mel_rule"] = (  # a current rule of the MEL's territory, in the MEL admin's hands
    "SELECT min(r.id) FROM competence_rule r JOIN authority a ON a.slug = 'mel'"
    " WHERE r.scope_kind = 'intercommunalite' AND r.scope_code = a.code AND r.valid_to IS NULL"
)


def _body_fields(spec: dict, schema: dict | None, depth: int = 0) -> set[str]:
    """Property names of a request body, one level into arrays and nested objects."""
    if schema is None or depth > 2:
        return set()
    schema = _resolve(spec, schema)
    names: set[str] = set()
    for option in schema.get("anyOf", []) + schema.get("allOf", []):
        names |= _body_fields(spec, option, depth)
    for name, prop in schema.get("properties", {}).items():
        names.add(name)
        names |= _body_fields(spec, _resolve(spec, prop).get("items", prop), depth + 1)
    return names


def test_every_route_naming_a_second_object_is_declared(settings):
    spec = create_app(settings).openapi()
    naming = set()
    for method, path in write_routes(settings):
        content = spec["paths"][path][method.lower()].get("requestBody", {}).get("content", {})
        schema = content.get("application/json", {}).get("schema")
        if _body_fields(spec, schema) & SECOND_OBJECT_FIELDS:
            naming.add((method, path))
    assert naming - SECOND_OBJECT.keys() == set(), "declare these in SECOND_OBJECT"
    assert SECOND_OBJECT.keys() - naming == set(), "SECOND_OBJECT lists stale routes"


def _fill(value, ids: dict[str, object]):  # type: ignore[no-untyped-def]
    """Replace "{name}" placeholders (whole values become ints, ids in paths strings)."""
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    return value


async def _mel_admin(session) -> None:  # type: ignore[no-untyped-def]
    """An administrator of the MEL alone (the demo's admin runs every authority)."""
    await session.execute(
        text(
            "INSERT INTO app_user (email, pseudonym, password_hash, is_active, email_verified)"
            " SELECT :e, 'Admin MEL', password_hash, true, true FROM app_user"
            " WHERE email = 'citoyen@demo.local'"
        ),
        {"e": MEL_ADMIN},
    )
    await session.execute(
        text(
            "INSERT INTO role_grant (user_id, role, authority_id) SELECT u.id, 'admin', a.id"
            " FROM app_user u, authority a WHERE u.email = :e AND a.slug = 'mel'"
        ),
        {"e": MEL_ADMIN},
    )


SECOND = sorted(SECOND_OBJECT)


@pytest.mark.parametrize(("method", "path"), SECOND, ids=[f"{m} {p}" for m, p in SECOND])
async def test_second_object_of_another_authority_is_refused(
    client, session, settings, method, path
):
    await _mel_admin(session)
    actor, concrete_path, body, expected = SECOND_OBJECT[(method, path)]
    ids: dict[str, object] = {}
    for name, query in IDS.items():
        ids[name] = (await session.execute(text(query))).scalar()
    url = concrete_path.format(**ids)
    assert "None" not in url, (url, ids)
    sample = sample_request(create_app(settings).openapi(), method, path).get("json", {})
    payload = {**sample, **_fill(body, ids)}
    assert None not in payload.values(), payload
    before = (await session.execute(text(FINGERPRINT))).scalar()
    headers = await login(client, actor)
    resp = await client.request(method, url, json=payload, headers=headers)
    assert resp.status_code == expected, (resp.status_code, resp.text)
    assert (await session.execute(text(FINGERPRINT))).scalar() == before
