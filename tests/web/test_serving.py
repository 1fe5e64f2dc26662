"""The web map is served at `/` with an SPA fallback that never shadows the API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from carto.error_handlers import register_error_handlers
from carto.settings import Settings
from carto.web import RESERVED_PREFIXES, basemap_of, install_web

INDEX = '<!doctype html><html lang="fr"><title>Carto test</title><div id="app"></div></html>'


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(INDEX)
    (tmp_path / "assets" / "index-AbCdEf12.js").write_text("console.log(1)")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    (tmp_path.parent / "secret.txt").write_text("not for the web")
    return tmp_path


@pytest.fixture
def web_client(dist: Path) -> Iterator[TestClient]:
    app = FastAPI()
    register_error_handlers(app)
    install_web(app, dist=dist)

    @app.get("/api/v1/ping")
    async def ping() -> dict[str, str]:  # registered after the fallback on purpose
        return {"pong": "ok"}

    with TestClient(app, base_url="http://t") as tc:
        yield tc


def test_root_and_page_paths_serve_the_app(web_client: TestClient) -> None:
    for path in ("/", "/suivi/42", "/concertations/plu-de-la-mel", "/agent/signalements/7"):
        resp = web_client.get(path)
        assert resp.status_code == 200, path
        assert resp.text == INDEX
        assert resp.headers["content-type"].startswith("text/html")
        assert resp.headers["cache-control"] == "no-cache"


def test_routes_added_after_the_fallback_still_answer(web_client: TestClient) -> None:
    resp = web_client.get("/api/v1/ping")
    assert resp.json() == {"pong": "ok"}


@pytest.mark.parametrize("prefix", RESERVED_PREFIXES)
def test_api_prefixes_keep_their_json_404(web_client: TestClient, prefix: str) -> None:
    resp = web_client.get(f"{prefix}/does-not-exist")
    assert resp.status_code == 404
    assert resp.headers["content-type"].startswith("application/json")
    assert "Carto test" not in resp.text


def test_hashed_assets_are_cached_for_ever(web_client: TestClient) -> None:
    resp = web_client.get("/assets/index-AbCdEf12.js")
    assert resp.status_code == 200
    assert resp.text == "console.log(1)"
    assert "immutable" in resp.headers["cache-control"]
    assert "javascript" in resp.headers["content-type"]
    favicon = web_client.get("/favicon.svg")
    assert favicon.status_code == 200 and favicon.headers["cache-control"] == "no-cache"


def test_missing_files_and_traversal_are_404(web_client: TestClient) -> None:
    assert (web_client.get("/assets/missing-12345678.js")).status_code == 404
    assert (web_client.get("/favicon.ico")).status_code == 404
    resp = web_client.get("/..%2Fsecret.txt")
    assert resp.status_code == 404 or "not for the web" not in resp.text
    assert "not for the web" not in (web_client.get("/../secret.txt")).text


def test_writes_to_page_paths_are_not_the_app(web_client: TestClient) -> None:
    resp = web_client.post("/suivi/42")
    assert resp.status_code in (404, 405)
    assert "Carto test" not in resp.text


def test_unbuilt_front_end_says_how_to_build(tmp_path: Path) -> None:
    app = FastAPI()
    install_web(app, dist=tmp_path / "nothing")
    with TestClient(app, base_url="http://t") as tc:
        resp = tc.get("/")
    assert resp.status_code == 503
    assert "make install" in resp.text


def test_basemap_setting_reads_raster_or_style() -> None:
    """The older `CARTO_BASEMAP_URL` (tests/test_basemap.py covers `CARTO_BASEMAP`)."""
    assert basemap_of(Settings(basemap_url=None, basemap="none")) is None
    assert basemap_of(Settings(basemap_url="", basemap="none")) is None
    raster = basemap_of(
        Settings(basemap_url="https://tiles.example/{z}/{x}/{y}.png", basemap_attribution="© OSM")
    )
    assert raster is not None and raster.kind == "raster" and raster.attribution == "© OSM"
    style = basemap_of(Settings(basemap_url="https://tiles.example/style.json"))
    assert style is not None and style.kind == "style"


def test_config_route_gives_the_demo_territories(settings: Settings, demo_db: str) -> None:
    from carto.app import create_app

    with TestClient(create_app(settings, db_url=demo_db)) as tc:
        resp = tc.get("/api/v1/config")
        page = tc.get("/suivi/1")
    assert resp.status_code == 200
    body = resp.json()
    # CARTO_BASEMAP=auto: Plan IGN, which the browser replaces by the own base when offline
    assert body["basemap"]["kind"] == "style" and body["basemap"]["fallback"] is True
    names = {t["name"] for t in body["territories"]}
    assert len(names) == 3
    for t in body["territories"]:
        west, south, east, north = t["bbox"]
        assert -5 < west < east < 10 and 41 < south < north < 52
    assert page.status_code == 200 and '<html lang="fr">' in page.text
