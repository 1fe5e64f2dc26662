"""CORS: public reads for any origin, Open311 writes for the listed origins only,
preflights answered, and never anything that would let another site use the web
app's cookie session (no credentials, no X-Requested-With)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from httpx import ASGITransport, AsyncClient

from carto.app import create_app
from carto.settings import Settings

APP_SITE = "https://signaler.example.fr"
OTHER = "https://evil.example"


@pytest.fixture
async def cors_client(settings: Settings) -> AsyncIterator[AsyncClient]:
    """The app with one listed origin; only routes that need no database are called."""
    app = create_app(settings.model_copy(update={"cors_origins": f"{APP_SITE}/, https://x.fr"}))
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as ac:
        yield ac


def preflight(method: str, origin: str, headers: str = "") -> dict[str, str]:
    asked = {"Access-Control-Request-Headers": headers} if headers else {}
    return {"Origin": origin, "Access-Control-Request-Method": method, **asked}


@pytest.mark.parametrize("path", ["/open311/v2/services.json", "/ogc/collections",
                                  "/tiles/signalements.json", "/exports/communes.csv"])  # fmt: skip
async def test_public_reads_preflight_for_any_origin(cors_client, path):
    resp = await cors_client.options(path, headers=preflight("GET", OTHER, "Accept"))
    assert resp.status_code == 204
    assert resp.headers["access-control-allow-origin"] == "*"
    assert "GET" in resp.headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in resp.headers


async def test_answers_carry_the_origin_policy(cors_client):
    read = await cors_client.get("/open311/v2/nothing.json", headers={"Origin": OTHER})
    assert read.status_code == 404 and read.headers["access-control-allow-origin"] == "*"
    assert read.json()[0]["code"] == 404  # even an error is readable by the other site
    post = await cors_client.post("/open311/v2/nowhere.json", headers={"Origin": APP_SITE})
    assert post.headers["access-control-allow-origin"] == APP_SITE
    assert "Origin" in post.headers["vary"]
    assert "access-control-allow-credentials" not in post.headers
    refused = await cors_client.post("/open311/v2/nowhere.json", headers={"Origin": OTHER})
    assert "access-control-allow-origin" not in refused.headers
    native = await cors_client.get("/openapi.json", headers={"Origin": APP_SITE})
    assert "access-control-allow-origin" not in native.headers
    same = await cors_client.get("/open311/v2/nothing.json")
    assert "access-control-allow-origin" not in same.headers


async def test_write_preflights_only_for_listed_origins(cors_client):
    url = "/open311/v2/requests.json"
    ok = await cors_client.options(url, headers=preflight("POST", APP_SITE, "Content-Type"))
    assert ok.status_code == 204 and ok.headers["access-control-allow-origin"] == APP_SITE
    assert ok.headers["access-control-allow-methods"] == "POST, OPTIONS"
    assert "x-requested-with" not in ok.headers["access-control-allow-headers"]
    assert "access-control-allow-credentials" not in ok.headers
    for headers in (
        preflight("POST", OTHER, "Content-Type"),  # not listed
        preflight("POST", APP_SITE, "Content-Type, X-Requested-With"),  # the CSRF header
        preflight("POST", APP_SITE, "Cookie"),
        preflight("DELETE", APP_SITE),
        preflight("POST", APP_SITE.replace("https", "http")),  # another origin
    ):
        refused = await cors_client.options(url, headers=headers)
        assert refused.status_code == 403, headers
        assert "access-control-allow-origin" not in refused.headers
    native = await cors_client.options("/api/v1/auth/token", headers=preflight("POST", APP_SITE))
    assert native.status_code == 403  # the native API (cookie session) is same-origin only
