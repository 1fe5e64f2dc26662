"""Open311 GeoReport v2: the specification's shapes, errors as its list, nothing stored on
refusal, and the contract's `agency_responsible`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text

from carto.app import create_app
from carto.db import get_session
from tests.conftest import login
from tests.signalements.conftest import count

BASE = "/open311/v2"
# The specification's field lists (GeoReport v2), checked against every answer.
SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords",
                  "group"}  # fmt: skip
REQUEST_FIELDS = {
    "service_request_id", "status", "status_notes", "service_name", "service_code",
    "description", "agency_responsible", "service_notice", "requested_datetime",
    "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat", "long",
    "media_url",
}  # fmt: skip
CREATED_FIELDS = {"service_request_id", "service_notice", "account_id"}
CONTRACT_POINTS = [
    (50.6916, 3.1779, "proprete", "Roubaix — Propreté urbaine"),
    (50.6365, 3.0635, "voirie", "Métropole Européenne de Lille — Voirie"),
    (48.8356, 2.2412, "eclairage", "Grand Paris Seine Ouest — Éclairage public"),
    (45.7640, 4.8357, "espaces-verts", "Lyon — Espaces verts"),
    (45.7640, 4.8357, "proprete", "Métropole de Lyon — Propreté urbaine"),
]


def assert_error(resp, status: int, *words: str) -> None:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert isinstance(body, list) and len(body) == 1
    assert set(body[0]) == {"code", "description"} and body[0]["code"] == status
    for word in words:
        assert word in body[0]["description"]


def assert_request_shape(item: dict) -> None:
    assert set(item) == REQUEST_FIELDS
    assert isinstance(item["service_request_id"], str) and item["service_request_id"].isdigit()
    assert item["status"] in ("open", "closed")
    assert isinstance(item["lat"], float) and isinstance(item["long"], float)
    for key in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert datetime.fromisoformat(item[key]).tzinfo is not None


async def post(client, lat, lon, code, *, as_json=False, **extra):
    body = {"lat": lat, "long": lon, "service_code": code, "description": "Contrôle", **extra}
    if as_json:
        return await client.post(f"{BASE}/requests.json", json=body)
    return await client.post(f"{BASE}/requests.json", data=body)


async def test_services_and_definitions(client):
    resp = await client.get(f"{BASE}/services.json")
    assert resp.status_code == 200
    services = resp.json()
    assert {s["service_code"] for s in services} >= {
        "voirie",
        "dechets",
        "proprete",
        "eclairage",
        "espaces-verts",
        "mobilier",
    }
    for item in services:
        assert set(item) == SERVICE_FIELDS
        assert item["metadata"] is False and item["type"] == "realtime"
    voirie = next(s for s in services if s["service_code"] == "voirie")
    assert voirie["service_name"] == "Chaussée, trottoir, nid-de-poule"
    resp = await client.get(f"{BASE}/services/voirie.json")
    assert resp.json() == {"service_code": "voirie", "attributes": []}
    assert_error(await client.get(f"{BASE}/services/piscine.json"), 404, "piscine")
    discovery = (await client.get(f"{BASE}/discovery.json")).json()
    assert discovery["endpoints"][0]["url"].endswith("/open311/v2")


@pytest.mark.parametrize(("lat", "lon", "code", "agency"), CONTRACT_POINTS)
async def test_contract_points_and_agency_responsible(client, lat, lon, code, agency):
    resp = await post(client, lat, lon, code)
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert isinstance(created, list) and set(created[0]) == CREATED_FIELDS
    rid = created[0]["service_request_id"]
    assert created[0]["service_notice"].startswith("Point dans la commune de")
    got = (await client.get(f"{BASE}/requests/{rid}.json")).json()
    assert len(got) == 1
    assert_request_shape(got[0])
    assert got[0]["agency_responsible"] == agency
    assert got[0]["status"] == "open"
    assert got[0]["status_notes"].startswith("routed : transmis au service compétent")
    assert (got[0]["lat"], got[0]["long"]) == (lat, lon)
    native = (await client.get(f"/api/v1/signalements/{rid}")).json()
    assert native["id"] == int(rid)


async def test_json_bodies_and_personal_data_kept_out(client, session):
    resp = await post(client, 50.6916, 3.1779, "proprete", as_json=True, email="x@example.org",
                      first_name="Dominique", last_name="Durand", address_string="1 rue Test",
                      media_url="https://example.org/p.jpg")  # fmt: skip
    assert resp.status_code == 201, resp.text
    rid = resp.json()[0]["service_request_id"]
    item = (await client.get(f"{BASE}/requests/{rid}.json")).json()[0]
    assert item["address"] == "1 rue Test" and item["media_url"] == "https://example.org/p.jpg"
    listing = await client.get(f"{BASE}/requests.json", params={"service_request_id": rid})
    for text_ in (str(item), listing.text):
        assert "Dominique" not in text_ and "Durand" not in text_ and "x@example.org" not in text_
    source = await session.execute(
        text("SELECT source FROM signalement WHERE id = :i"), {"i": int(rid)}
    )
    assert source.scalar_one() == "open311"


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"lat": 50.8467, "long": 4.3525, "service_code": "voirie", "description": "Bruxelles"},
         400, ["en dehors des territoires"]),
        ({"lat": 50.6916, "long": 3.1779, "service_code": "piscine", "description": "x"},
         400, ["Catégorie inconnue"]),
        ({"lat": 50.6916, "service_code": "voirie", "description": "x"}, 400, ["long"]),
        ({"address_string": "1 rue X", "service_code": "voirie", "description": "x"}, 400,
         ["Adresse introuvable", "lat et long"]),
        ({"lat": 50.6916, "long": 3.1779, "service_code": "voirie"}, 400,
         ["au moins une description", "media"]),
        ({"lat": 95, "long": 3.1779, "service_code": "voirie", "description": "x"}, 400,
         ["Coordonnées invalides"]),
        ({"lat": "nord", "long": 3.1779, "service_code": "voirie", "description": "x"}, 400,
         ["Coordonnées invalides"]),
        ({"lat": 50.6916, "long": 3.1779, "service_code": "voirie", "description": "x",
          "email": "pas une adresse"}, 400, ["email"]),
    ],
)  # fmt: skip
async def test_refusals_are_open311_errors_and_store_nothing(client, session, body, status, words):
    before = await count(session), await count(session, "notification_outbox")
    for as_json in (False, True):
        if as_json:
            resp = await client.post(f"{BASE}/requests.json", json=body)
        else:
            resp = await client.post(f"{BASE}/requests.json", data=body)
        assert_error(resp, status, *words)
    assert (await count(session), await count(session, "notification_outbox")) == before


async def test_malformed_json_is_a_400_list(client):
    resp = await client.post(
        f"{BASE}/requests.json", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert_error(resp, 400, "JSON")
    resp = await client.post(f"{BASE}/requests.json", json=[1, 2])
    assert_error(resp, 400, "objet")


async def test_request_filters(client):
    ids = []
    for code in ("voirie", "voirie", "mobilier"):
        resp = await post(client, 50.6916, 3.1779, code)
        ids.append(resp.json()[0]["service_request_id"])
    agent = await login(client, "agent.voirie.mel@demo.local")
    await client.post(f"/api/v1/signalements/{ids[1]}/transitions",
                      json={"to": "resolved", "note": "Rebouché"}, headers=agent)  # fmt: skip

    async def listed(**params) -> list[dict]:
        resp = await client.get(f"{BASE}/requests.json", params=params)
        assert resp.status_code == 200, resp.text
        for item in resp.json():
            assert_request_shape(item)
        return resp.json()

    by_ids = await listed(service_request_id=f"{ids[0]},{ids[2]}", status="closed")
    assert {i["service_request_id"] for i in by_ids} == {ids[0], ids[2]}  # ids override all
    voirie = {i["service_request_id"] for i in await listed(service_code="voirie")}
    assert {ids[0], ids[1]} <= voirie and ids[2] not in voirie
    closed = await listed(service_code="voirie,mobilier", status="closed")
    mine = [i for i in closed if i["service_request_id"] in ids]
    assert [i["service_request_id"] for i in mine] == [ids[1]]
    assert mine[0]["status_notes"] == "resolved : résolu — Rebouché"
    both = {i["service_request_id"] for i in await listed(status="open,closed")}
    assert set(ids) <= both
    now = datetime.fromisoformat((await listed(service_request_id=ids[0]))[0]["requested_datetime"])
    later = await listed(start_date=(now + timedelta(hours=1)).isoformat())
    assert not set(ids) & {i["service_request_id"] for i in later}
    window = await listed(start_date=(now - timedelta(hours=1)).isoformat(),
                          end_date=(now + timedelta(hours=1)).isoformat())  # fmt: skip
    assert set(ids) <= {i["service_request_id"] for i in window}
    newest = [i["requested_datetime"] for i in window]
    assert newest == sorted(newest, reverse=True)
    bad = ({"status": "pending"}, {"start_date": "hier"}, {"start_date": "2026-01-01T00:00:00"},
           {"service_request_id": "12,abc"})  # fmt: skip
    for params in bad:
        assert_error(await client.get(f"{BASE}/requests.json", params=params), 400)
    assert_error(await client.get(f"{BASE}/requests/abc.json"), 404)
    assert_error(await client.get(f"{BASE}/requests/99999999.json"), 404)


@pytest.fixture
async def strict_client(settings, session) -> AsyncIterator[AsyncClient]:
    """A deployment that requires an API key and limits writes to 2 a minute."""
    strict = settings.model_copy(
        update={"open311_api_keys": "cle-1, cle-2", "rate_limits": "on",
                "rate_limit_rules": {"signalement": "2/60"}}
    )  # fmt: skip
    app = create_app(strict)

    async def _session() -> AsyncIterator:
        yield session

    app.dependency_overrides[get_session] = _session
    app.state.engine = session.bind
    transport = ASGITransport(app=app, client=("203.0.113.7", 4000))
    async with AsyncClient(transport=transport, base_url="http://test") as ac:
        yield ac


async def test_api_key_and_rate_limit_when_configured(strict_client, session):
    before = await count(session)
    assert_error(await post(strict_client, 50.6916, 3.1779, "voirie"), 403, "api_key")
    resp = await post(strict_client, 50.6916, 3.1779, "voirie", api_key="cle-2")
    assert resp.status_code == 201, resp.text
    assert await count(session) == before + 1
    resp = await post(strict_client, 50.6916, 3.1779, "voirie", api_key="cle-1")
    assert_error(resp, 429, "Trop de requêtes")
    assert int(resp.headers["Retry-After"]) >= 1


FORM_BODIES = [
    b"a=1&b=2", b"a=1&&b=", b"a", b"=x", b"a=1&a=2", b"d=%C3%A9t%C3%A9+ok%2B", b"x=%ZZ&y=\xe9",
    b"&&", b"", b"a=b=c", b"k;v=1;w=2", b"long=3.1&lat=50.6",
]  # fmt: skip


@pytest.mark.parametrize("raw", FORM_BODIES)
async def test_form_bodies_read_as_starlette_reads_them(raw):
    from starlette.datastructures import Headers
    from starlette.formparsers import FormParser

    from carto.signalements.open311_input import _urlencoded

    async def stream() -> AsyncIterator[bytes]:
        yield raw

    form = await FormParser(Headers({}), stream()).parse()
    assert _urlencoded(raw) == dict(form.items())


async def test_unescaped_utf8_in_a_form_is_read_as_utf8(client, session):
    """`curl -d "description=Dépôt…"` sends UTF-8 bytes unescaped: the report keeps the
    words, not « DÃ©pÃ´t » (latin-1, as Starlette reads them)."""
    body = "long=3.1746&lat=50.6901&service_code=proprete&description=Dépôt près de l'école"
    made = await client.post(
        "/open311/v2/requests.json", content=body.encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert made.status_code == 201, made.text
    sid = made.json()[0]["service_request_id"]
    (item,) = (await client.get(f"/open311/v2/requests/{sid}.json")).json()
    assert item["description"] == "Dépôt près de l'école"


async def test_a_form_with_too_many_fields_is_a_400_list(client, session):
    before = await count(session)
    body = "&".join(f"f{i}=x" for i in range(1001))
    resp = await client.post(
        "/open311/v2/requests.json", content=body,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert resp.status_code == 400
    assert resp.json() == [{"code": 400, "description": "Formulaire illisible : trop de champs."}]
    assert await count(session) == before


@pytest.mark.parametrize(
    "media_url",
    ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "//evil.example/x.png",
     "ftp://example.org/p.jpg", "https://exa mple.org/p.jpg"],
)  # fmt: skip
async def test_media_url_is_an_http_address_or_refused(client, session, media_url):
    """Other clients show media_url as an image or a link: a script URL stored here would
    run in their pages. Refused with the specification's error, nothing stored."""
    before = await count(session, "signalement")
    resp = await post(client, 50.6916, 3.1779, "proprete", media_url=media_url)
    assert_error(resp, 400, "media_url")
    assert await count(session, "signalement") == before
