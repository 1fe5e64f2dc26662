"""Every write route declares who may call it, and refuses everybody else.

The table below lists every write route of the OpenAPI document with what it
needs. A new route that is not in the table fails `test_every_write_route_is_declared`
(no route forgotten). Then each protected route is called anonymously (401) and
by a signed-in caller lacking the role (403), with real ids from the demo data,
and must change nothing. The anonymous call carries a valid token in cookies: only
the Authorization header counts, so there is no CSRF surface.
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
    ("POST", "/api/v1/media"): ANONYMOUS,  # photos of anonymous reports (rate-limited)
    ("POST", "/api/v1/signalements"): ANONYMOUS,  # anonymous reports are accepted
    ("POST", "/api/v1/signalements/{signalement_id}/supports"): ANONYMOUS,
    ("POST", "/open311/v2/requests.json"): ANONYMOUS,
    ("POST", "/api/v1/me/delete"): SIGNED_IN,
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
    UNION ALL SELECT (SELECT string_agg(state, ',' ORDER BY id) FROM signalement)) s(t)"""


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
    """Bearer tokens only: signing in sets no cookie, so browsers hold no ambient authority."""
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
    cookies = {name: token for name in ("access_token", "token", "carto.token", "session")}
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
