"""Hostile input on every write route: never a 500; stored text comes back as sent.

The sweep walks the OpenAPI document: for every write route it collects the string
fields of its JSON or form body (nested ones too), then sends, as a caller allowed to
use the route, SQL injection, HTML/JS, NUL bytes, very long strings, Unicode oddities
(RTL overrides, combining marks, ZWJ emoji, a BOM), lone surrogates as JSON escapes,
and JSON nested 10,000 levels deep (as the body and as a field). Every answer must be
a 2xx or a 4xx. Then targeted checks: stored text is byte-identical from the JSON API
and escaped in the HTML the server renders (synthesis report, OGC HTML), path
traversal in path parameters and in uploaded file names, a 10 MB polygon, and a
decompression bomb in the one zip upload (reference layers). Photos (decoding bombs,
fake images, archives named .jpg) are covered in tests/media/test_photos.py.
"""

from __future__ import annotations

import http.client
import io
import json
import math
import time
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
from PIL import Image

from carto.app import create_app
from carto.settings import Settings
from tests.conftest import serve_in_thread
from tests.scratch_db import scratch_demo_db
from tests.test_route_security import (
    ANONYMOUS,
    BODIES,
    ID_QUERIES,
    ROUTES,
    SIGNED_IN,
    _resolve,
    sample_request,
)

SQL = ["'; DROP TABLE signalement; --", '" OR 1=1 --', "x' UNION SELECT email FROM app_user--"]
HTML = [
    "<script>alert('x')</script>",
    '<img src=x onerror="alert(1)">',
    "</textarea><svg/onload=1>",
]
ODD = [
    "\u202eevil\u202c.txt",
    "e\u0301\u0301\u0301 Z\u0335\u0321a\u0336",
    "👩\u200d👩\u200d👧 \ufeffbom",
]
PAYLOADS = [*SQL, *HTML, *ODD, "a\x00b", "x" * 100_000]
STORED_OK = [*SQL, *HTML, *ODD]  # must be accepted and come back byte-identical
ACCOUNTS = {
    SIGNED_IN: "citoyen@demo.local", "citizen": "citoyen@demo.local",
    "moderator": "moderateur@demo.local", "admin": "admin@demo.local",
    "agent": "admin@demo.local",  # administrators of the authority may act as its agents
}  # fmt: skip
OPEN311_FIELDS = ["service_code", "description", "address_string", "email", "first_name",
                  "last_name", "media_url", "api_key", "lat"]  # fmt: skip
DEEP = "[" * 10_000 + "]" * 10_000
MEL = (3.0635, 50.6365)


@contextmanager
def _serve_demo(tmp: Path, server_url: str) -> Iterator[dict[str, Any]]:
    """The app on a demo database of its own (hostile text is committed there)."""
    app_settings = Settings(
        data_dir=tmp, secret_key="hostile-" + "k" * 40,
        rate_limits="off", notifications_worker=False,
    )  # fmt: skip
    with scratch_demo_db(server_url, "carto_hostile") as url:
        app = create_app(app_settings, db_url=url)
        with serve_in_thread(app) as base, httpx.Client(base_url=base, timeout=300) as http:
            tokens = {}
            for role, email in ACCOUNTS.items():
                resp = http.post("/api/v1/auth/token", data={"username": email, "password": "demo"})
                assert resp.status_code == 200, resp.text
                tokens[role] = {"Authorization": f"Bearer {resp.json()['access_token']}"}
            yield {"http": http, "db": url, "tokens": tokens, "spec": app.openapi(), "base": base,
                   "bodies": realistic_bodies(http)}  # fmt: skip


@pytest.fixture(scope="module")
def live(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Targeted checks: a demo database whose routing no sweep has edited."""
    with _serve_demo(tmp_path_factory.mktemp("hostile"), server_url) as served:
        yield served


@pytest.fixture()
def swept(server_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The sweep's own database: its staff edits (competence rules, services, moderation)
    would change what the targeted checks rely on, whatever the test order."""
    with _serve_demo(tmp_path, server_url) as served:
        yield served


def _ids(db: str, path: str) -> str:
    with psycopg.connect(db) as conn:
        for name, query in ID_QUERIES.items():
            if "{" + name + "}" in path:
                if name == "client_id":
                    query = "SELECT max(id) FROM api_client"
                value = conn.execute(query).fetchone()[0]  # type: ignore[index]
                path = path.replace("{" + name + "}", str(value))
    return path


def string_fields(spec: dict, schema: dict, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Paths of the string fields of a body schema, nested objects included."""
    schema = _resolve(spec, schema)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return sorted({f for o in schema[key] for f in string_fields(spec, o, prefix)})
    if schema.get("type") == "string" and schema.get("format") != "binary":
        return [prefix]
    fields: list[tuple[str, ...]] = []
    for name, sub in schema.get("properties", {}).items():
        fields += string_fields(spec, sub, (*prefix, name))
    return fields


def _set(body: dict, path: tuple[str, ...], value: Any) -> dict:
    body = json.loads(json.dumps(body))
    node = body
    for key in path[:-1]:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            return body
    node[path[-1]] = value
    return body


def write_cases(spec: dict) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(method, path, body kind, field) for every string field of every write route."""
    cases = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if method not in ("post", "put", "patch"):
                continue
            content = op.get("requestBody", {}).get("content", {})
            for kind in ("application/json", "application/x-www-form-urlencoded",
                         "multipart/form-data"):  # fmt: skip
                if kind in content:
                    for field in string_fields(spec, content[kind]["schema"]):
                        cases.append((method.upper(), path, kind, field))
    cases += [("POST", "/open311/v2/requests.json", "open311", (f,)) for f in OPEN311_FIELDS]
    # staff routes last: their edits (services, competence rules, moderation) would
    # otherwise refuse the citizens' writes for reasons other than the text
    citizens = {ANONYMOUS, SIGNED_IN, "citizen"}
    return sorted(cases, key=lambda c: ROUTES.get((c[0], c[1]), ANONYMOUS) not in citizens)


POINT = {"type": "Point", "coordinates": list(MEL)}
FEATURE = {"type": "Feature", "properties": {"nom": "x"}, "geometry": POINT}
LAYER = json.dumps({"type": "FeatureCollection", "features": [FEATURE]})


def realistic_bodies(http: httpx.Client) -> dict[tuple[str, str], tuple[str, dict[str, Any]]]:
    """Valid bodies (and URLs) for the routes where a minimal body would stop at
    validation of another field, so that the hostile text reaches the service."""
    plu = next(c for c in http.get("/api/v1/concertations").json() if "plu" in c["slug"])
    listed = http.get(f"/api/v1/concertations/{plu['id']}/contributions").json()
    contribution = max(f["id"] for f in listed["features"])  # moderation tests use min(id)
    now = datetime.now(UTC)
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": list(MEL)},
               "properties": {"title": "Titre", "body": "Texte", "kind": "proposition",
                              "theme": plu["themes"][0]["slug"]}}  # fmt: skip
    concertation = {
        "title": "Concertation", "kind": "autre", "authorities": ["lille"],
        "perimeter": {"communes": ["59350"]}, "opens_at": (now - timedelta(days=1)).isoformat(),
        "closes_at": (now + timedelta(days=20)).isoformat(), "themes": [{"label": "Thème"}],
    }  # fmt: skip
    c = f"/api/v1/contributions/{contribution}"
    return {
        ("POST", "/api/v1/auth/token"): (
            "/api/v1/auth/token", {"data": {"username": "inconnu@exemple.fr", "password": "x"}}),
        ("POST", "/api/v1/auth/signup"): ("/api/v1/auth/signup", {"json": {
            "email": "hostile@exemple.fr", "pseudonym": "Hostile", "password": "motdepasse"}}),
        ("POST", "/api/v1/auth/password-reset"): (
            "/api/v1/auth/password-reset", {"json": {"email": "hostile@exemple.fr"}}),
        ("POST", "/api/v1/signalements"): ("/api/v1/signalements", {"json": {
            "lon": MEL[0], "lat": MEL[1], "service_code": "voirie", "description": "x"}}),
        ("POST", "/api/v1/concertations"): ("/api/v1/concertations", {"json": concertation}),
        ("POST", "/api/v1/concertations/{ref}/contributions"): (
            f"/api/v1/concertations/{plu['id']}/contributions", {"json": feature}),
        ("POST", "/api/v1/contributions/{contribution_id}/votes"): (
            f"{c}/votes", {"json": {"value": 1, "reason": "x"}}),
        ("POST", "/api/v1/contributions/{contribution_id}/comments"): (
            f"{c}/comments", {"json": {"body": "x"}}),
        ("POST", "/api/v1/contributions/{contribution_id}/reports"): (
            f"{c}/reports", {"json": {"reason": "x"}}),
        ("POST", "/api/v1/concertations/{ref}/reference-layers"): (
            f"/api/v1/concertations/{plu['id']}/reference-layers",
            {"data": {"title": "Couche"}, "files": {"file": ("couche.geojson", LAYER.encode())}}),
    }  # fmt: skip


def _request(live: dict, method: str, path: str, kind: str) -> tuple[str, dict[str, Any]]:
    if kind == "open311":
        lon, lat = MEL
        form = {"lat": lat, "long": lon, "service_code": "voirie", "description": "x"}
        return path, {"data": form}
    if (method, path) in live["bodies"]:
        url, request = live["bodies"][(method, path)]
        return url, dict(request)
    request = sample_request(live["spec"], method, path)
    if (method, path) in BODIES and "into" in request["json"]:
        request["json"]["into"] = 1
    if kind == "application/x-www-form-urlencoded":
        request = {"data": request.get("json", {})}
    return _ids(live["db"], path), request


def _send(live: dict, method: str, path: str, url: str, request: dict[str, Any]) -> httpx.Response:
    needed = ROUTES.get((method, path), ANONYMOUS)
    headers = live["tokens"].get(needed, {})
    return live["http"].request(method, url, headers=headers, **request)


def _post_ok(live: dict, url: str, body: dict[str, Any], role: str | None = None) -> dict:
    headers = live["tokens"].get(role, {}) if role else {}
    resp = live["http"].post(url, json=body, headers=headers)
    assert resp.status_code in (200, 201), (url, resp.status_code, resp.text[:300])
    return resp.json()


@pytest.mark.parametrize("text", STORED_OK, ids=[repr(t[:12]) for t in STORED_OK])
def test_stored_text_comes_back_byte_identical(live: dict, text: str) -> None:
    http = live["http"]
    body = {"lon": MEL[0], "lat": MEL[1], "service_code": "voirie", "description": text,
            "address": text}  # fmt: skip
    made = _post_ok(live, "/api/v1/signalements", body)
    page = http.get(f"/api/v1/signalements/{made['id']}").json()
    assert page["description"] == text and page["address"]["label"] == text
    (open311,) = http.get(f"/open311/v2/requests/{made['id']}.json").json()
    assert open311["description"] == text
    url, request = live["bodies"][("POST", "/api/v1/concertations/{ref}/contributions")]
    feature = json.loads(json.dumps(request["json"]))
    feature["properties"].update(title=f"Titre {text}", body=text)
    contribution = _post_ok(live, url, feature, "citizen")
    again = http.get(f"/api/v1/contributions/{contribution['id']}").json()["properties"]
    assert again["title"] == f"Titre {text}" and again["body"] == text
    comment = _post_ok(live, f"/api/v1/contributions/{contribution['id']}/comments",
                       {"body": text}, "citizen")  # fmt: skip
    listed = http.get(f"/api/v1/contributions/{contribution['id']}/comments").json()
    assert [c["body"] for c in listed if c["id"] == comment["id"]] == [text]


def test_html_rendered_by_the_server_escapes_stored_text(live: dict) -> None:
    """The synthesis report and the OGC HTML pages show contributed text, escaped."""
    http = live["http"]
    _, request = live["bodies"][("POST", "/api/v1/concertations")]
    concertation = dict(request["json"], title="<script>alert('t')</script> Place")
    made = _post_ok(live, "/api/v1/concertations", concertation, "admin")
    theme = made["themes"][0]["slug"]
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [3.0573, 50.6292]},
               "properties": {"title": HTML[1], "body": HTML[0], "theme": theme,
                              "kind": "proposition"}}  # fmt: skip
    contribution = _post_ok(live, f"/api/v1/concertations/{made['id']}/contributions", feature,
                            "citizen")  # fmt: skip
    other = http.post(  # a vote by someone else: nobody votes for their own contribution
        "/api/v1/auth/token", data={"username": "participant.01@demo.local", "password": "demo"}
    ).json()["access_token"]
    voted = http.post(f"/api/v1/contributions/{contribution['id']}/votes", json={"value": 1},
                      headers={"Authorization": f"Bearer {other}"})  # fmt: skip
    assert voted.status_code == 201, voted.text
    pages = {
        "synthesis": http.get(f"/api/v1/concertations/{made['id']}/synthesis.html"),
        "ogc": http.get(
            f"/ogc/collections/contributions/items/{contribution['id']}", params={"f": "html"}
        ),  # fmt: skip
        "rgpd": http.get("/rgpd"),
        "verify": http.get("/api/v1/auth/verify", params={"token": HTML[0] + "x" * 10}),
    }
    for name, page in pages.items():
        assert page.status_code in (200, 400), (name, page.status_code)
        assert "<script>alert" not in page.text and "<img src=x" not in page.text, name
    synthesis = pages["synthesis"].text
    assert "&lt;script&gt;alert(" in synthesis  # the title is there, escaped
    assert "&lt;img src=x onerror" in synthesis or "&amp;lt;img src=x" in synthesis
    assert "&lt;img src=x" in pages["ogc"].text


RAW_PATHS = [
    "/exports/..%2F..%2F..%2Fetc%2Fpasswd.csv", "/exports/%2e%2e/%2e%2e/etc/passwd.csv",
    "/exports/../../../../etc/passwd", "/exports/concertations/..%2F..%2Fetc%2Fpasswd.gpkg",
    "/media/..%2F..%2F..%2Fetc%2Fpasswd.jpg", "/media/../../../../etc/passwd",
    "/media/%2e%2e%2f%2e%2e%2fetc%2fpasswd/thumb.jpg", "/tiles/..%2F..%2Fetc%2Fpasswd/1/0/0.mvt",
    "/tiles/communes/1/0/..%2F..%2F..%2Fetc%2Fpasswd.mvt", "/tiles/..%2Fcommunes.json",
    "/tiles/heatmap/..%2F..%2Fetc/1/0/0.png", "/../../../../etc/passwd",
    "/assets/..%2F..%2F..%2F..%2Fetc%2Fpasswd", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
]  # fmt: skip


@pytest.mark.parametrize("raw", RAW_PATHS)
def test_path_traversal_in_path_parameters(live: dict, raw: str) -> None:
    """Sent byte for byte (no client-side normalisation of `..`)."""
    netloc = urlsplit(live["base"]).netloc
    conn = http.client.HTTPConnection(netloc, timeout=60)
    try:
        conn.request("GET", raw)
        resp = conn.getresponse()
        body = resp.read()
    finally:
        conn.close()
    assert resp.status != 500 and b"root:x:0:0" not in body, (raw, resp.status)
    if raw.startswith(("/exports", "/media", "/tiles")):
        assert 400 <= resp.status < 500, (raw, resp.status)


def test_path_traversal_in_uploaded_file_names(live: dict, tmp_path: Path) -> None:
    http = live["http"]
    image = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 10, 10)).save(image, "PNG")
    target = Path("/tmp/carto-traversal-photo.png")
    name = "../" * 12 + "tmp/carto-traversal-photo.png"
    resp = http.post("/api/v1/media", files={"file": (name, image.getvalue())})
    assert resp.status_code == 201 and not target.exists()
    url, request = live["bodies"][("POST", "/api/v1/concertations/{ref}/reference-layers")]
    layer_name = "../" * 12 + "tmp/carto-traversal-layer.geojson"
    resp = http.post(url, data=request["data"], files={"file": (layer_name, LAYER.encode())},
                     headers=live["tokens"]["admin"])  # fmt: skip
    assert resp.status_code == 201, resp.text
    assert not Path("/tmp/carto-traversal-layer.geojson").exists()
    assert ".." not in json.dumps(resp.json())


def _ring(vertices: int) -> list[list[float]]:
    lon, lat = 3.0573, 50.6292
    return [[lon + 0.01 * math.cos(2 * math.pi * i / vertices),
             lat + 0.01 * math.sin(2 * math.pi * i / vertices)]
            for i in range(vertices)] + [[lon + 0.01, lat]]  # fmt: skip


def test_ten_megabyte_polygons_are_refused_cleanly(live: dict) -> None:
    polygon = {"type": "Polygon", "coordinates": [_ring(250_000)]}
    url, request = live["bodies"][("POST", "/api/v1/concertations/{ref}/contributions")]
    feature = json.loads(json.dumps(request["json"]))
    feature["geometry"] = polygon
    content = json.dumps(feature)
    assert len(content) >= 10_000_000
    started = time.monotonic()
    headers = {**live["tokens"]["citizen"], "Content-Type": "application/json"}
    resp = live["http"].post(url, content=content, headers=headers)
    assert resp.status_code in (413, 422), resp.text[:300]
    assert time.monotonic() - started < 60
    _, request = live["bodies"][("POST", "/api/v1/concertations")]
    concertation = dict(request["json"], perimeter={"geometry": polygon})
    resp = live["http"].post("/api/v1/concertations", json=concertation,
                             headers=live["tokens"]["admin"])  # fmt: skip
    assert 400 <= resp.status_code < 500 or resp.status_code == 201, resp.text[:300]


def test_open311_json_bodies_deep_or_with_lone_surrogates_are_400(live: dict) -> None:
    lon, lat = MEL
    surrogate = (
        f'{{"lat": {lat}, "long": {lon}, "service_code": "voirie", "description": "\\ud800"}}'
    )
    assert "\\ud800" in surrogate
    for content in (DEEP, surrogate, '{"description": ' + DEEP + "}"):
        resp = live["http"].post(
            "/open311/v2/requests.json", content=content,
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        assert resp.status_code == 400, (content[:60], resp.status_code, resp.text[:200])
        assert resp.json()[0]["code"] == 400


def test_zip_bomb_reference_layer_is_refused(live: dict) -> None:
    """A zipped layer that inflates to 1 GiB: refused without inflating it all."""
    buf = io.BytesIO()
    with (
        zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf,
        zf.open("couche.geojson", "w", force_zip64=True) as member,
    ):
        member.write(b'{"type": "FeatureCollection", "features": [')
        chunk = b" " * (1 << 20)
        for _ in range(1024):
            member.write(chunk)
        member.write(b"]}")
    assert len(buf.getvalue()) < 5_000_000
    url, request = live["bodies"][("POST", "/api/v1/concertations/{ref}/reference-layers")]
    started = time.monotonic()
    resp = live["http"].post(url, data=request["data"],
                             files={"file": ("couche.zip", buf.getvalue())},
                             headers=live["tokens"]["admin"])  # fmt: skip
    assert 400 <= resp.status_code < 500, (resp.status_code, resp.text[:300])
    assert time.monotonic() - started < 60


def test_every_write_route_survives_hostile_text(swept: dict) -> None:
    live = swept
    cases = write_cases(live["spec"])
    assert len({(m, p) for m, p, _, _ in cases}) >= 25 and len(cases) >= 60
    failures: list[str] = []
    statuses: dict[tuple[str, str], set[int]] = defaultdict(set)
    for method, path, kind, field in cases:
        url, base = _request(live, method, path, kind)
        key = "json" if "json" in base else "data"
        for payload in PAYLOADS:
            request = dict(base)
            request[key] = _set(base[key], field, payload)
            resp = _send(live, method, path, url, request)
            statuses[(method, path)].add(resp.status_code)
            if resp.status_code >= 500:
                failures.append(
                    f"{method} {path} {'.'.join(field)}={payload[:30]!r}: {resp.text[:200]}"
                )
        if key == "json":  # a lone surrogate (JSON escape), and 10,000 levels of nesting
            marker = "\u2603MARK\u2603"
            raw = json.dumps(_set(base[key], field, marker))
            for value in ('"\\ud800x"', DEEP):
                content = raw.replace(json.dumps(marker), value)
                failures += _check_raw(live, method, url, content, field, path)
    for method, path, kind, _ in cases:
        if kind == "application/json":
            url, _ = _request(live, method, path, kind)
            failures += _check_raw(live, method, url, DEEP, ("<body>",), path)
    assert not failures, "\n".join(failures)
    # the callers are allowed: answers come from validation or the route, not the guard
    refused = {route: codes for route, codes in statuses.items() if codes <= {401, 403}}
    assert not refused, refused


def _check_raw(
    live: dict, method: str, url: str, content: str, field: tuple[str, ...], path: str
) -> list[str]:
    needed = ROUTES.get((method, path), ANONYMOUS)
    headers = {**live["tokens"].get(needed, {}), "Content-Type": "application/json"}
    resp = live["http"].request(method, url, headers=headers, content=content)
    if resp.status_code >= 500:
        return [f"{method} {url} {'.'.join(field)} raw {content[:40]!r}: {resp.text[:200]}"]
    return []
