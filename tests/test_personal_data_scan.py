"""Every public output of a seeded deployment, scanned for the personal data put into it.

A citizen with a unique e-mail and a pseudonym that looks like a real name files a
report (with a photo full of EXIF metadata, from a known address), an Open311 client
files another with an e-mail and a first and last name, the citizen contributes to a
concertation, votes and comments. Then, anonymously over HTTP: every GET route of the
OpenAPI document (path parameters filled from the seeded ids; a route missing from
the fill table fails the test, so none is forgotten), the OGC collections and items,
every export format of every layer, vector tiles of every layer at several zooms
(decoded), TileJSON, heatmaps, hexagons, /rgpd and the web pages. None may carry the
e-mails, the names, the address or the photo metadata. The pseudonym is public by
design, but only as the `author` of the citizen's own contributions and comments.
"""

from __future__ import annotations

import io
import itertools
import json
import math
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import mapbox_vector_tile
import psycopg
import pytest
from PIL import Image

from carto.app import create_app
from carto.credentials import hash_password
from carto.settings import Settings
from tests.conftest import serve_in_thread
from tests.layers.conftest import public_views
from tests.scratch_db import scratch_demo_db

LYON = (4.8357, 45.7640)  # in the "Planter un arbre à Lyon" perimeter
ROUBAIX = (3.1779, 50.6916)
ZOOMS = (5, 10, 14, 16)
TILE_LAYERS = ("signalements", "contributions", "communes", "intercommunalites",
               "arrondissements", "reference_features")  # fmt: skip
HEAT_LAYERS = ("signalements", "contributions")
FORMATS = ("geojson", "csv", "gpkg", "fgb")
WEB_PAGES = ("/", "/donnees", "/agent", "/rgpd")
# GET routes that need a signed-in caller: anonymous calls must be refused.
PRIVATE = {
    "/api/v1/me", "/api/v1/me/export", "/api/v1/me/signalements", "/api/v1/admin/services",
    "/api/v1/admin/competences", "/api/v1/admin/api-clients", "/api/v1/admin/authorities",
    "/api/v1/admin/signalements/transfers", "/api/v1/moderation/queue", "/api/v1/signalements",
    "/api/v1/services", "/api/v1/signalements/stats", "/api/v1/services/{service_id}/depot",
    "/api/v1/services/{service_id}/rounds.gpx", "/api/v1/services/{service_id}/rounds.html",
    "/api/v1/signalements/{signalement_id}/around",
}  # fmt: skip


@dataclass
class Seeded:
    base: str
    secrets: dict[str, str]  # what may appear nowhere
    pseudonym: str  # what may appear only as an author
    ids: dict[str, list[str]] = field(default_factory=dict)


def tile(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return z, int((lon + 180) / 360 * n), int(y)


def exif_photo(token: str) -> bytes:
    """A JPEG whose EXIF says who took it, with what, and where."""
    exif = Image.Exif()
    exif[0x013B] = f"Artiste{token}"  # Artist
    exif[0x8298] = f"Copyright Famille{token}"
    exif[0x010E] = f"Chez moi {token}"  # ImageDescription
    exif[0x8825] = {1: "N", 2: (50.0, 41.0, 29.76), 3: "E", 4: (3.0, 10.0, 40.44)}  # GPS
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 160, 90)).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def _ok(resp: httpx.Response) -> Any:
    assert resp.status_code in (200, 201), (resp.request.url, resp.status_code, resp.text[:300])
    return resp.json()


def _seed_citizen(db_url: str, email: str, pseudonym: str) -> None:
    with psycopg.connect(db_url) as conn:
        user_id = conn.execute(
            "INSERT INTO app_user (email, pseudonym, password_hash, is_active, email_verified,"
            " failed_logins) VALUES (%s, %s, %s, true, true, 0) RETURNING id",
            (email, pseudonym, hash_password("motdepasse-scan")),
        ).fetchone()[0]  # type: ignore[index]
        conn.execute("INSERT INTO role_grant (user_id, role) VALUES (%s, 'citizen')", (user_id,))


def _seed_through_api(http: httpx.Client, seeded: Seeded, email: str) -> None:
    """Personal data enters as users send it: through the API, from a known address."""
    s, ids = seeded.secrets, seeded.ids
    auth = _ok(http.post("/api/v1/auth/token", data={"username": email,
                                                      "password": "motdepasse-scan"}))  # fmt: skip
    citizen = {"Authorization": f"Bearer {auth['access_token']}"}
    photo = _ok(
        http.post("/api/v1/media", files={"file": ("IMG_0001.jpg", exif_photo(s["token"]))})
    )
    ids["photo_url"] = [photo["url"], photo["thumbnail_url"]]
    report = {"lon": LYON[0], "lat": LYON[1], "service_code": "voirie", "photo_id": photo["id"],
              "description": "Nid-de-poule devant l'école", "email": s["report_email"],
              "first_name": s["first_name"], "last_name": s["last_name"]}  # fmt: skip
    ids["signalement"] = [str(_ok(http.post("/api/v1/signalements", json=report,
                                            headers=citizen))["id"])]  # fmt: skip
    form = {"lat": ROUBAIX[1], "long": ROUBAIX[0], "service_code": "proprete",
            "description": "Dépôt sauvage", "email": s["open311_email"],
            "first_name": s["first_name"], "last_name": s["last_name"],
            "account_id": s["open311_account"]}  # fmt: skip
    made = _ok(http.post("/open311/v2/requests.json", data=form))
    ids["signalement"].append(made[0]["service_request_id"])
    http.post(f"/api/v1/signalements/{ids['signalement'][1]}/supports")
    concertations = _ok(http.get("/api/v1/concertations"))
    tree = next(c for c in concertations if "arbre" in c["slug"])
    ids["ref"], ids["slug"] = [str(tree["id"]), tree["slug"]], [tree["slug"]]
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": list(LYON)},
               "properties": {"title": "Un tilleul place Bellecour", "body": "De l'ombre.",
                              "theme": tree["themes"][0]["slug"],
                              "kind": "proposition"}}  # fmt: skip
    contribution = _ok(http.post(f"/api/v1/concertations/{tree['id']}/contributions",
                                 json=feature, headers=citizen))  # fmt: skip
    ids["contribution"] = [str(contribution["id"])]
    # the citizen votes on another's contribution: nobody votes for their own
    others = _ok(http.get(f"/api/v1/concertations/{tree['id']}/contributions?limit=50"))
    other = next(
        f["id"]
        for f in others["features"]
        if f["id"] != contribution["id"]
        and f["properties"]["author"] != contribution["properties"]["author"]
    )
    _ok(http.post(f"/api/v1/contributions/{other}/votes", json={"value": 1}, headers=citizen))
    _ok(http.post(f"/api/v1/contributions/{contribution['id']}/comments",
                  json={"body": "Bonne idée, et un banc ?"}, headers=citizen))  # fmt: skip
    layers = _ok(http.get(f"/api/v1/concertations/{tree['id']}/reference-layers"))
    ids["layer_id"] = [str(layer["id"]) for layer in layers[:1]]


@pytest.fixture(scope="module")
def seeded(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    token = secrets.token_hex(4)
    person = {
        "token": token,
        "account_email": f"zelie.{token}@exemple.fr",
        "report_email": f"signale.{token}@exemple.fr",
        "open311_email": f"open311.{token}@exemple.fr",
        "open311_account": f"compte-{token}",
        "first_name": f"Anatole{token}",
        "last_name": f"Quarterbrook{token}",
        "ip": f"198.51.100.{int(token[:2], 16) % 200 + 20}",
        "exif": f"Artiste{token}",
        "exif_place": f"Chez moi {token}",
    }
    app_settings = Settings(
        data_dir=tmp_path_factory.mktemp("scan"), secret_key="scan-" + "k" * 40,
        rate_limits="off", notifications_worker=False,
    )  # fmt: skip
    with scratch_demo_db(server_url, "carto_scan") as url:
        pseudonym = f"Octave Vernier{token}"
        _seed_citizen(url, person["account_email"], pseudonym)
        with serve_in_thread(create_app(app_settings, db_url=url)) as base:
            seeded = Seeded(base=base, secrets=person, pseudonym=pseudonym)
            # uvicorn trusts X-Forwarded-For from loopback: the "client address" is ours
            headers = {"X-Forwarded-For": person["ip"]}
            with httpx.Client(base_url=base, headers=headers, timeout=120) as http:
                _seed_through_api(http, seeded, person["account_email"])
            _check_stored(url, seeded)
            seeded.ids["db"] = [url]
            yield seeded


def _check_stored(url: str, seeded: Seeded) -> None:
    """The write side holds every planted value, so finding none outside means something."""
    s = seeded.secrets
    with psycopg.connect(url) as conn:
        dump = json.dumps(
            conn.execute(
                "SELECT json_agg(r) FROM signalement_reporter r WHERE signalement_id = ANY(%s)",
                ([int(i) for i in seeded.ids["signalement"]],),
            ).fetchone()[0]  # type: ignore[index]
        )
    for key in ("report_email", "open311_email", "first_name", "last_name", "ip",
                "open311_account"):  # fmt: skip
        assert s[key] in dump, key


def _fill(seeded: Seeded, path: str) -> list[str]:
    """Concrete URLs for a templated path, from the seeded ids (KeyError: not covered)."""
    ids = seeded.ids
    if path.startswith("/tiles/") and "{z}" in path:
        layers = HEAT_LAYERS if "heatmap" in path else TILE_LAYERS
        tiles = {tile(*point, z) for point in (LYON, ROUBAIX) for z in ZOOMS}
        template = path.replace("{layer}", "{0}").replace("{z}/{x}/{y}", "{1}/{2}/{3}")
        return [template.format(layer, *t) for layer in layers for t in sorted(tiles)]
    if path.startswith("/media/"):
        return list(ids["photo_url"]) if "thumb" not in path else ids["photo_url"][1:]
    values: dict[str, list[str]] = {
        "signalement_id": ids["signalement"], "service_request_id": ids["signalement"],
        "service_code": ["voirie", "proprete"], "ref": ids["ref"], "slug": ids["slug"],
        "contribution_id": ids["contribution"], "layer_id": ids["layer_id"],
        "extension": list(FORMATS), "ext": ["json", "xml"],
        "service_id": ["1"], "rule_id": ["1"],  # staff routes: 401 anonymously
        "token": ["x"],  # the signed follow link: a bad token is refused
        "layer": sorted(public_views(ids["db"][0])) if path.startswith("/exports/")
        else list(TILE_LAYERS),
    }  # fmt: skip
    names = [part.split("}")[0] for part in path.split("{")[1:]]
    urls = []
    for combo in itertools.product(*(values[n] for n in names)):
        url = path
        for name, value in zip(names, combo, strict=True):
            url = url.replace("{" + name + "}", value, 1)
        urls.append(url)
    return urls


QUERIES = {
    "/api/v1/routing/preview": {"lon": LYON[0], "lat": LYON[1], "service_code": "voirie"},
    "/api/v1/signalements/nearby": {
        "lon": LYON[0],
        "lat": LYON[1],
        "service_code": "voirie",
        "radius": 500,
    },  # fmt: skip
    "/api/v1/auth/verify": {"token": "lien-invalide-de-test"},
    "/open311/v2/requests.json": {},
    "/api/v1/services/{service_id}/rounds.gpx": {"ids": "1"},
    "/api/v1/services/{service_id}/rounds.html": {"ids": "1"},
}


def _without_authors(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_authors(v) for k, v in value.items() if k != "author"}
    if isinstance(value, list):
        return [_without_authors(v) for v in value]
    return value


class Scan:
    """Collects every public answer and what it leaks."""

    def __init__(self, seeded: Seeded):
        self.seeded = seeded
        self.http = httpx.Client(base_url=seeded.base, timeout=300)
        self.leaks: list[str] = []
        self.fetched: dict[str, int] = {}

    def get(self, url: str, params: dict[str, Any] | None = None) -> httpx.Response:
        resp = self.http.get(url, params=params)
        assert resp.status_code < 500, (url, resp.status_code, resp.text[:300])
        self.fetched[url] = resp.status_code
        self.check(url, resp)
        return resp

    def check(self, name: str, resp: httpx.Response) -> None:
        content = resp.content
        texts = [content]
        if resp.headers.get("content-type", "").startswith("application/vnd.mapbox-vector-tile"):
            texts.append(repr(mapbox_vector_tile.decode(content)).encode())
        for text_ in texts:
            for key, value in self.seeded.secrets.items():
                if key != "token" and value.encode() in text_:
                    self.leaks.append(f"{key} in {name}")
            if b"Exif\x00\x00" in text_:
                self.leaks.append(f"EXIF block in {name}")
        pseudonym = self.seeded.pseudonym
        if pseudonym.encode() in content:
            try:
                stripped = json.dumps(_without_authors(resp.json()), ensure_ascii=False)
            except ValueError:
                stripped = content.decode("utf-8", "replace")
            if pseudonym in stripped:
                self.leaks.append(f"pseudonym outside an author field in {name}")


def test_no_public_output_carries_personal_data(seeded: Seeded) -> None:
    scan = Scan(seeded)
    spec = scan.get("/openapi.json").json()
    for path, ops in spec["paths"].items():
        if "get" not in ops:
            continue
        for url in _fill(seeded, path):
            resp = scan.get(url, QUERIES.get(path))
            if path in PRIVATE:
                assert resp.status_code == 401, (url, resp.status_code)
    # the OGC API: every collection, every page of items, and one item page in HTML
    collections = scan.get("/ogc/collections").json()["collections"]
    assert {"signalements", "contributions", "communes"} <= {c["id"] for c in collections}
    for collection in collections:
        url: str | None = f"/ogc/collections/{collection['id']}/items?limit=10000"
        while url:
            page = scan.get(url)
            assert page.status_code == 200, (url, page.text[:200])
            url = next((lk["href"] for lk in page.json()["links"] if lk["rel"] == "next"), None)
    for sid in seeded.ids["signalement"]:
        scan.get(f"/ogc/collections/signalements/items/{sid}")
        scan.get(f"/ogc/collections/signalements/items/{sid}", {"f": "html"})
    scan.get(f"/ogc/collections/contributions/items/{seeded.ids['contribution'][0]}")
    for page in (*WEB_PAGES, f"/suivi/{seeded.ids['signalement'][0]}"):
        assert scan.get(page).status_code == 200, page
    scan.get(
        "/open311/v2/requests.json", {"service_request_id": ",".join(seeded.ids["signalement"])}
    )
    z, x, y = tile(*LYON, 14)
    scan.get(f"/tiles/signalements/{z}/{x}/{y}.mvt", {"service_code": "voirie"})
    z, x, y = tile(*LYON, 10)
    must_answer = [
        f"/api/v1/signalements/{seeded.ids['signalement'][0]}",
        f"/open311/v2/requests/{seeded.ids['signalement'][1]}.json",
        f"/api/v1/contributions/{seeded.ids['contribution'][0]}/comments",
        f"/api/v1/concertations/{seeded.ids['ref'][0]}/synthesis.html",
        "/exports/signalements.gpkg", f"/tiles/heatmap/signalements/{z}/{x}/{y}.png",
        "/tiles/signalements.json", "/tiles/hexagons/signalements.geojson",
    ]  # fmt: skip
    for url in must_answer:
        assert scan.fetched.get(url) == 200, (url, scan.fetched.get(url))
    mvt = [u for u, s in scan.fetched.items() if u.endswith(".mvt") and s == 200]
    assert len(mvt) >= len(TILE_LAYERS) * len(ZOOMS)
    assert len(scan.fetched) > 150
    assert not scan.leaks, "\n".join(sorted(set(scan.leaks)))
