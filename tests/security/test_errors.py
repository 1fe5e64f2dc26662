"""Finding 8 (five 500s) and "database error text never reaches a client", over HTTP."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from fastapi import FastAPI

from carto.app import _with_request_ids
from carto.error_handlers import register_error_handlers

ITEMS = "/ogc/collections/signalements/items"

FIVE_500S = [
    "/ogc/collections/signalements/items?bbox=nan,nan,nan,nan",
    "/ogc/collections/signalements/items/99999999999999999999",
    "/ogc/collections/signalements/items?filter=state%3D%27open%00%27",
    "/open311/v2/requests/%C2%B2.json",
    "/open311/v2/requests.json?service_request_id=%C2%B2",
]


@pytest.mark.parametrize("path", FIVE_500S)
def test_the_five_500s_are_clear_4xx(http: httpx.Client, path: str) -> None:
    resp = http.get(path)
    assert 400 <= resp.status_code < 500, (resp.status_code, resp.text)
    body = resp.json()  # Open311 answers its own error list
    assert body[0]["description"] if isinstance(body, list) else body["message"]


def test_every_answer_has_a_request_id(http: httpx.Client) -> None:
    paths = ("/healthz", "/ogc/", "/open311/v2/services.json")
    ids = {http.get(p).headers["x-request-id"] for p in paths}
    assert len(ids) == 3 and all(len(i) >= 8 for i in ids)
    mine = "client-chose-0123"
    assert http.get("/healthz", headers={"X-Request-ID": mine}).headers["x-request-id"] == mine
    odd = http.get("/healthz", headers={"X-Request-ID": "a b<script>"}).headers["x-request-id"]
    assert odd != "a b<script>" and odd.isalnum()


def test_database_error_text_stays_in_the_log(
    http: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    """A value PostgreSQL refuses: a generic French message and an id that the log has."""
    caplog.set_level(logging.INFO, logger="carto.ogc")
    resp = http.get(ITEMS, params={"filter": "id = 'abc'"})
    assert resp.status_code == 422, resp.text
    body = resp.json()
    assert body["message"] == "Valeur de filtre invalide."
    assert "invalid input" not in resp.text and "abc" not in resp.text
    assert body["request_id"] == resp.headers["x-request-id"]
    logged = [r for r in caplog.records if getattr(r, "request_id", None) == body["request_id"]]
    assert any("invalid input syntax" in r.getMessage() for r in logged)


def test_an_unhandled_500_carries_the_id_in_header_body_and_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = FastAPI()
    register_error_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret database detail")

    _with_request_ids(app)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)

    async def call() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.get("/boom")

    resp = asyncio.run(call())
    assert resp.status_code == 500
    rid = resp.headers["x-request-id"]
    assert resp.json()["request_id"] == rid and "secret" not in resp.text
    assert any(getattr(r, "request_id", None) == rid for r in caplog.records)
