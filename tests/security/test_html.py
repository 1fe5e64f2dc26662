"""Finding 2 (stored XSS in the synthesis report), over HTTP on the served app.

Every HTML answer carries a Content-Security-Policy that runs no inline script it
did not name (hash or nonce); the report's contribution titles reach its map only
as JSON data, in a sandboxed iframe; the web app's token lives in an HttpOnly cookie
that counts only with the web app's header.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from carto.security_headers import web_app_policy
from carto.settings import Settings
from tests.security.conftest import bearer

PAYLOADS = [
    "`Arbre` + alert(13) + `",
    "${top.document.title=`PWNED-`+top.localStorage.length}",
    "</script><script>alert(1)</script>",
]
LILLE = (3.0573, 50.6292)
SCRIPT = re.compile(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", re.S | re.I)
SRCDOC = re.compile(r'<iframe(?P<attrs>[^>]*?)srcdoc="(?P<doc>[^"]*)"', re.S)


def payload_concertation(http: httpx.Client) -> dict[str, Any]:
    """A concertation in Lille whose published contributions are titled with `PAYLOADS`."""
    admin, citizen = bearer(http, "admin@demo.local"), bearer(http, "citoyen@demo.local")
    now = datetime.now(UTC)
    body = {
        "title": "Concertation piégée", "kind": "autre", "authorities": ["lille"],
        "perimeter": {"communes": ["59350"]}, "opens_at": (now - timedelta(days=1)).isoformat(),
        "closes_at": (now + timedelta(days=20)).isoformat(), "themes": [{"label": "Arbres"}],
    }  # fmt: skip
    made = http.post("/api/v1/concertations", json=body, headers=admin)
    assert made.status_code == 201, made.text
    concertation = made.json()
    for n, title in enumerate(PAYLOADS):
        point = [LILLE[0] + (n - 1) * 0.012, LILLE[1]]
        feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": point},
                   "properties": {"title": title, "body": "Texte", "kind": "proposition",
                                  "theme": concertation["themes"][0]["slug"]}}  # fmt: skip
        resp = http.post(
            f"/api/v1/concertations/{concertation['id']}/contributions", json=feature,
            headers=citizen,
        )  # fmt: skip
        assert resp.status_code == 201, resp.text
    return concertation


@pytest.fixture(scope="module")
def trapped(served: str) -> dict[str, Any]:
    with httpx.Client(base_url=served, timeout=60) as client:
        return payload_concertation(client)


def directives(policy: str) -> dict[str, list[str]]:
    parts = (d.strip().split() for d in policy.split(";") if d.strip())
    return {p[0]: p[1:] for p in parts}


def sha256_of(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


def assert_scripts_allowed(page: str, script_src: list[str]) -> None:
    """Each inline script of `page` runs under the policy (by hash or nonce): the page works."""
    for m in SCRIPT.finditer(page):
        attrs, body = m["attrs"], m["body"]
        if "src=" in attrs or "application/json" in attrs:
            continue
        nonce = re.search(r'nonce="([^"]+)"', attrs)
        allowed = sha256_of(body) in script_src or (nonce and f"'nonce-{nonce[1]}'" in script_src)
        assert allowed, f"inline script not allowed by the policy: {body[:80]!r}"


def check_policy(resp: httpx.Response) -> dict[str, list[str]]:
    assert resp.headers["content-type"].startswith("text/html"), resp.headers["content-type"]
    assert resp.headers.get("x-content-type-options") == "nosniff"
    assert resp.headers.get("referrer-policy")
    policy = directives(resp.headers.get("content-security-policy", ""))
    scripts = policy.get("script-src", policy.get("default-src"))
    assert scripts is not None, policy
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts, scripts
    assert policy.get("object-src") == ["'none'"] or policy.get("default-src") == ["'none'"]
    assert "base-uri" in policy and "frame-ancestors" in policy, policy
    assert_scripts_allowed(resp.text, scripts)
    return policy


HTML_PAGES = [
    "/", "/suivi/1", "/concertations", "/rgpd", "/api/v1/auth/verify?token=x" + "y" * 20,
    "/docs", "/docs/oauth2-redirect", "/ogc/?f=html", "/ogc/collections?f=html",
    "/ogc/collections/contributions?f=html", "/ogc/collections/contributions/items?f=html&limit=3",
    "/ogc/api.html",
]  # fmt: skip


@pytest.mark.parametrize("path", HTML_PAGES)
def test_every_html_page_has_a_policy_without_inline_scripts(http: httpx.Client, path: str):
    resp = http.get(path, headers={"Accept": "text/html"})
    assert resp.status_code in (200, 400), (path, resp.status_code)
    check_policy(resp)


def test_the_web_app_policy_lets_maplibre_work(http: httpx.Client) -> None:
    policy = check_policy(http.get("/", headers={"Accept": "text/html"}))
    assert policy["script-src"] == ["'self'"]
    assert "blob:" in policy["worker-src"] and "blob:" in policy["img-src"]
    assert "'self'" in policy["connect-src"]
    shell = http.get("/").text
    assert all("src=" in m["attrs"] for m in SCRIPT.finditer(shell)), "inline script in index"


def test_the_base_map_origin_is_allowed_and_nothing_else() -> None:
    settings = Settings(basemap_url="https://{s}.tiles.example.org/{z}/{x}/{y}.png")
    policy = directives(web_app_policy(settings))
    assert policy["connect-src"] == ["'self'", "https://*.tiles.example.org"]
    assert "https://*.tiles.example.org" in policy["img-src"]
    assert policy["script-src"] == ["'self'"]


def test_ogc_nonce_changes_per_request(http: httpx.Client) -> None:
    first, second = (
        directives(http.get("/ogc/collections?f=html").headers["content-security-policy"])
        for _ in range(2)
    )
    assert first["script-src"] != second["script-src"]
    assert first["script-src"][0].startswith("'nonce-")


def test_json_answers_are_not_sniffed(http: httpx.Client) -> None:
    resp = http.get("/api/v1/concertations")
    assert resp.headers.get("x-content-type-options") == "nosniff"
    assert "content-security-policy" not in resp.headers  # HTML only: the hot paths stay lean


def test_report_titles_reach_the_map_only_as_json(
    http: httpx.Client, trapped: dict[str, Any]
) -> None:
    resp = http.get(f"/api/v1/concertations/{trapped['id']}/synthesis.html")
    assert resp.status_code == 200
    policy = check_policy(resp)
    page = resp.text
    assert not [m for m in SCRIPT.finditer(page)], "the report itself runs no script"
    assert '<meta http-equiv="Content-Security-Policy"' in page  # the offline file too
    frame = SRCDOC.search(page)
    assert frame is not None
    sandbox = re.search(r'sandbox="([^"]*)"', frame["attrs"])
    assert sandbox is not None and sandbox[1] == "allow-scripts"
    doc = html.unescape(frame["doc"])
    assert "<script>alert(1)" not in page and "<script>alert(1)" not in doc
    scripts = list(SCRIPT.finditer(doc))
    data = [m["body"] for m in scripts if 'type="application/json"' in m["attrs"]]
    assert len(data) == 1
    labels = [p["label"] for p in json.loads(data[0])["points"]]
    for payload in PAYLOADS:
        assert any(label.startswith(payload) for label in labels), payload
    assert "</script>" not in data[0] and "\\u003c/script\\u003e" in data[0]
    code = [m["body"] for m in scripts if "application/json" not in m["attrs"]]
    assert len(code) == 2  # Leaflet and the static map script
    for body in code:
        assert sha256_of(body) in policy["script-src"]
        assert "PWNED" not in body and "alert(" not in body


def test_web_app_session_is_an_httponly_cookie(http: httpx.Client) -> None:
    web = {"X-Requested-With": "carto-web"}
    form = {"username": "citoyen@demo.local", "password": "demo"}
    api_client = http.post("/api/v1/auth/token", data=form)
    assert api_client.status_code == 200 and "set-cookie" not in api_client.headers
    resp = http.post("/api/v1/auth/token", data=form, headers=web)
    assert resp.status_code == 200
    answer = resp.json()
    assert answer["token_type"] == "bearer" and answer["access_token"]  # the contract holds
    cookie = resp.headers["set-cookie"]
    assert cookie.startswith("carto_session=")
    for attribute in ("HttpOnly", "SameSite=strict", "Path=/api"):
        assert attribute.lower() in cookie.lower(), (attribute, cookie)
    jar = {"Cookie": f"carto_session={http.cookies['carto_session']}"}
    http.cookies.clear()
    assert http.get("/api/v1/me", headers=jar | web).status_code == 200
    # CSRF: without the web app's header the cookie does not count
    assert http.get("/api/v1/me", headers=jar).status_code == 401
    vote = http.post("/api/v1/contributions/1/votes", json={"value": 1}, headers=jar)
    assert vote.status_code == 401, vote.text
    # API clients keep the bearer header
    headers = {"Authorization": f"Bearer {answer['access_token']}"}
    assert http.get("/api/v1/me", headers=headers).status_code == 200
    out = http.delete("/api/v1/auth/session", headers=jar | web)
    assert out.status_code == 204
    assert "carto_session=" in out.headers["set-cookie"]
    assert "max-age=0" in out.headers["set-cookie"].lower()
