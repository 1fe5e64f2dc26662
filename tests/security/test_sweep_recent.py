"""Outside attack on the last sessions' additions (Open311 jurisdictions and XML, the lean
tile path and TileJSON, competence rules' `inform`, the follow link page, `carto import
contacts`), replayed over real HTTP on the served demo where there is HTTP: every
refusal is a 4xx in French in the format the URL asked for, and stores nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from xml.etree.ElementTree import fromstring

import httpx
import psycopg
import pytest

from carto.errors import ImportFailed
from carto.notifications.follow_link import sign
from carto.routing.contacts import import_contacts
from tests.security.conftest import bearer

ROUBAIX = {"lat": 50.6916, "long": 3.1779, "service_code": "proprete"}
SERVED_SECRET = "security-test-secret-" + "z" * 32  # tests/security/conftest.py: served


def _spec_error(resp: httpx.Response, fmt: str) -> str:
    """The GeoReport error's description, checked to be 400 in the URL's format."""
    assert resp.status_code == 400, resp.text
    if fmt == "xml":
        assert resp.headers["content-type"].startswith("text/xml"), resp.text
        doc = fromstring(resp.content)  # noqa: S314 (our own answer)
        return str(doc.findtext("error/description"))
    [item] = resp.json()
    assert item["code"] == 400
    return str(item["description"])


def _listed(http: httpx.Client, marker: str) -> list[str]:
    found = http.get("/open311/v2/requests.json", params={"service_code": "proprete"})
    return [r["service_request_id"] for r in found.json() if marker in r["description"]]


@pytest.mark.parametrize("value", [84, ["59"], {"code": "59"}, True])
def test_a_json_jurisdiction_id_that_is_no_text_is_a_400(http: httpx.Client, value: object) -> None:
    """A JSON body may carry any type: `.strip()` of a number was a 500."""
    marker = f"juridiction typée {value!r}"
    body = {**ROUBAIX, "description": marker, "jurisdiction_id": value}
    resp = http.post("/open311/v2/requests.json", json=body)
    assert "jurisdiction_id doit être un texte" in _spec_error(resp, "json")
    assert _listed(http, marker) == []


@pytest.mark.parametrize("query", ["start_date=9999-12-31", "end_date=0001-01-01"])
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_dates_at_the_calendar_edges_are_a_400(http: httpx.Client, query: str, fmt: str) -> None:
    """The 90-day window added to the year 9999 (or taken from the year 1) overflowed."""
    resp = http.get(f"/open311/v2/requests.{fmt}?{query}")
    assert "entre 1900 et 2999" in _spec_error(resp, fmt)


def test_control_characters_keep_the_xml_readable(http: httpx.Client) -> None:
    """One control character in a stored description made the XML list and item
    unparsable for every client (the serializer writes it raw)."""
    marker = "Nid de poule\x0b\x1b\x01 devant l'école"
    created = http.post("/open311/v2/requests.json", json={**ROUBAIX, "description": marker})
    assert created.status_code == 201, created.text
    ref = created.json()[0]["service_request_id"]
    listing = "/open311/v2/requests.xml?service_code=proprete"
    for url in (f"/open311/v2/requests/{ref}.xml", listing):
        resp = http.get(url)
        assert resp.status_code == 200, resp.text
        doc = fromstring(resp.content)  # noqa: S314 (our own answer)
        mine = [r for r in doc.iter("request") if r.findtext("service_request_id") == ref]
        assert len(mine) == 1, url
        assert mine[0].findtext("description") == "Nid de poule\ufffd\ufffd\ufffd devant l'école"
    # JSON carries the text as stored (JSON escapes control characters).
    assert http.get(f"/open311/v2/requests/{ref}.json").json()[0]["description"] == marker


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_values_postgres_refuses_are_a_400_in_the_urls_format(http: httpx.Client, fmt: str) -> None:
    """A NUL byte reached PostgreSQL and came back as the app's JSON 422, even on `.xml`."""
    resp = http.get(f"/open311/v2/requests.{fmt}?service_code=%00")
    assert "Valeur invalide" in _spec_error(resp, fmt)
    resp = http.get(f"/open311/v2/services.{fmt}?jurisdiction_id=a%00b")
    assert "caractère de contrôle" in _spec_error(resp, fmt)


def test_lean_tile_path_takes_ascii_digits_only(http: httpx.Client) -> None:
    """`\\d` matched Arabic-Indic digits, which int() reads: the lean path served a tile
    at a URL the reference route refuses."""
    arabic = "/tiles/signalements/%D9%A1%D9%A4/8301/5503.mvt"  # « ١٤ »: 14
    resp = http.get(arabic)
    assert 400 <= resp.status_code < 500, resp.status_code
    assert "x-tile-source" not in resp.headers
    assert http.get("/tiles/signalements/14/8301/5503.mvt").status_code in (200, 204)


def test_contacts_file_with_oversized_or_nul_fields_skips_those_rows(
    sync_conn: psycopg.Connection, tmp_path: Path
) -> None:
    """`carto import contacts FILE`: a telephone longer than its column, or a NUL, aborted
    the whole import with a driver traceback; such rows are now invalid, the rest lands.
    E-mails with CR/LF (header injection) were already refused as invalid addresses."""
    authority = sync_conn.execute(
        "INSERT INTO authority (slug, name, kind, code) VALUES "
        "('sweepville', 'Sweepville', 'commune', '15998') RETURNING id"
    ).fetchone()
    assert authority is not None
    sync_conn.execute(
        "INSERT INTO service (authority_id, slug, name) VALUES (%s, 'contact', 'Accueil')",
        (authority[0],),
    )
    rows = [
        {"insee": "15998", "email": "mairie@sweepville.example", "telephone": "0" * 41},
        {"insee": "15998", "email": "mairie@sweepville.example", "adresse": "1 place\x00"},
        {"insee": "15998", "email": "mairie@sweepville.example\r\nBcc: x@evil.example"},
        {"insee": "15998", "email": "Mairie@Sweepville.example", "telephone": "04 71 00 00 00"},
    ]
    path = tmp_path / "contacts.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    report = import_contacts(sync_conn, path)
    assert (report.updated, report.invalid) == (1, ["ligne 1", "ligne 2", "ligne 3"])
    stored = sync_conn.execute(
        "SELECT email, telephone FROM authority_contact WHERE kind = 'commune' AND code = '15998'"
    ).fetchall()
    assert stored == [("Mairie@sweepville.example", "04 71 00 00 00")]
    latin = tmp_path / "latin.csv"
    latin.write_bytes("insee,email,adresse\n15998,m@sweepville.example,Hôtel\n".encode("latin-1"))
    with pytest.raises(ImportFailed, match="UTF-8"):
        import_contacts(sync_conn, latin)


def test_tilejson_tile_urls_ignore_the_host_header(http: httpx.Client) -> None:
    """TileJSON is cached publicly: an allowed name with a forged port in `Host` wrote
    that port into every client's tile URLs (cache poisoning); they come from the public
    URL, as e-mailed links do."""
    spoofed = http.get("/tiles/signalements.json", headers={"Host": "127.0.0.1:1"})
    other = http.get("/tiles/signalements.json", headers={"Host": "localhost:2"})
    assert spoofed.status_code == other.status_code == 200, spoofed.text
    assert spoofed.headers["cache-control"].startswith("public")
    assert spoofed.json()["tiles"] == other.json()["tiles"]
    assert "127.0.0.1:1/" not in spoofed.json()["tiles"][0]


@pytest.fixture
def roubaix_admin(demo_db: str) -> Iterator[str]:
    """An administrator of Roubaix alone (the demo's admin runs every authority)."""
    email = "maire.sweep@roubaix.test"
    with psycopg.connect(demo_db, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO app_user (email, pseudonym, password_hash, is_active, email_verified) "
            "SELECT %s, 'Maire', password_hash, true, true FROM app_user "
            "WHERE email = 'admin@demo.local'",
            (email,),
        )
        conn.execute(
            "INSERT INTO role_grant (user_id, role, authority_id) SELECT u.id, 'admin', "
            "c.authority_id FROM app_user u, commune c WHERE u.email = %s AND c.insee = '59512'",
            (email,),
        )
        try:
            yield email
        finally:
            conn.execute(
                "DELETE FROM role_grant WHERE user_id = (SELECT id FROM app_user WHERE email = %s)",
                (email,),
            )
            conn.execute("DELETE FROM app_user WHERE email = %s", (email,))


def test_a_rule_informs_by_name_only_its_territorys_authorities(
    http: httpx.Client, demo_db: str, roubaix_admin: str
) -> None:
    """Roubaix's administrator made Lyon's voirie service receive an e-mail and a webhook
    call for every Roubaix ticket (`inform` of level authority named anybody)."""
    with psycopg.connect(demo_db) as conn:
        lyon = conn.execute("SELECT id FROM authority WHERE slug = 'lyon'").fetchone()
        mel = conn.execute(
            "SELECT i.authority_id FROM intercommunalite i JOIN intercommunalite_member m "
            "ON m.siren = i.siren WHERE m.insee = '59512'"
        ).fetchone()
        before = conn.execute("SELECT count(*) FROM competence_rule").fetchone()
    assert lyon is not None and mel is not None
    headers = bearer(http, roubaix_admin)
    rule = {"category": "eclairage", "level": "commune", "scope_kind": "commune",
            "scope_code": "59512"}  # fmt: skip
    far = {**rule, "inform": [{"level": "authority", "authority_id": lyon[0], "service": "voirie"}]}
    resp = http.post("/api/v1/admin/competences", json=far, headers=headers)
    assert resp.status_code == 403, resp.text
    assert "informer nommément" in resp.json()["message"]
    with psycopg.connect(demo_db) as conn:
        assert conn.execute("SELECT count(*) FROM competence_rule").fetchone() == before
    # Its own intercommunality may be named (and the rule is withdrawn at once).
    near = {**rule, "inform": [{"level": "authority", "authority_id": mel[0]}]}
    resp = http.post("/api/v1/admin/competences", json=near, headers=headers)
    assert resp.status_code == 201, resp.text
    made = resp.json()["id"]
    # A new version may not add a far authority either (its old names are kept).
    version = http.patch(
        f"/api/v1/admin/competences/{made}", json={"inform": far["inform"]}, headers=headers
    )
    assert version.status_code == 403, version.text
    closed = http.delete(f"/api/v1/admin/competences/{made}", headers=headers)
    assert closed.status_code == 200, closed.text


def test_follow_link_refusals_are_its_french_page_and_change_nothing(
    http: httpx.Client, demo_db: str
) -> None:
    """`/suivi-mairie/{token}` promises French HTML refusals: a crafted POST (JSON body, a
    NUL or an over-long note) got the API's JSON instead. The token is genuine (signed
    with the served app's key for a ticket and its service's address)."""
    with psycopg.connect(demo_db) as conn:
        row = conn.execute(
            "SELECT s.id, v.email, s.state FROM signalement s JOIN service v "
            "ON v.id = s.service_id WHERE s.status = 'open' AND v.email IS NOT NULL "
            "ORDER BY s.id LIMIT 1"
        ).fetchone()
    assert row is not None
    link = f"/suivi-mairie/{sign(SERVED_SECRET, row[0], row[1])}"
    assert http.get(link).status_code == 200
    for kwargs in (
        {"json": {"action": "acknowledged"}},
        {"data": {"action": "acknowledged", "note": "a\x00b"}},
        {"data": {"action": "acknowledged", "note": "x" * 2001}},
        {"data": {"action": "x" * 30}},
    ):
        resp = http.post(link, **kwargs)  # type: ignore[arg-type]
        assert resp.status_code == 422, (kwargs, resp.text)
        assert resp.headers["content-type"].startswith("text/html"), resp.text
        assert "Action impossible" in resp.text
    with psycopg.connect(demo_db) as conn:
        state = conn.execute("SELECT state FROM signalement WHERE id = %s", (row[0],)).fetchone()
    assert state == (row[2],)
