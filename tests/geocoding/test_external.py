"""The external (BAN-compatible) provider against a real addok loaded with the same
fixture: same top answers as the built-in geocoder; a dead service is a French 503."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator

import pytest
from httpx import ASGITransport, AsyncClient

from carto.app import create_app
from carto.db import get_session
from carto.settings import Settings

from .addok_server import running_addok
from .cases import FIXTURE_QUERIES
from .conftest import FIXTURE


@pytest.fixture(scope="module")
def addok_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_addok(FIXTURE, tmp_path_factory.mktemp("addok")) as url:
        yield url


def _client(settings: Settings, session, geocoder_url: str, timeout_s: float = 2.0):  # type: ignore[no-untyped-def]
    app = create_app(
        settings.model_copy(update={"geocoder_url": geocoder_url, "geocoder_timeout_s": timeout_s})
    )

    async def _session() -> AsyncIterator[object]:
        yield session

    app.dependency_overrides[get_session] = _session
    app.state.sessionmaker = None
    return AsyncClient(transport=ASGITransport(app=app), base_url="http://test")


def _top(body: dict) -> tuple[str, str, str, str | None]:
    props = body["features"][0]["properties"]
    return (props["type"], props["citycode"], props["label"], props.get("housenumber"))


@pytest.mark.parametrize(("q", "citycode", "kind"), FIXTURE_QUERIES)
async def test_same_top_answer_as_the_builtin(
    client, settings, session, ban_loaded, addok_url, q, citycode, kind
):
    builtin = await client.get("/api/v1/geocode", params={"q": q})
    async with _client(settings, session, addok_url) as external:
        answer = await external.get("/api/v1/geocode", params={"q": q})
    assert answer.status_code == 200, answer.text
    assert _top(answer.json()) == _top(builtin.json())
    assert _top(answer.json())[:2] == (kind, citycode)


async def test_reverse_same_address(client, settings, session, ban_loaded, addok_url):
    params = {"lon": 3.05702, "lat": 50.635791}  # beside 14 rue Nationale, Lille
    builtin = (await client.get("/api/v1/geocode/reverse", params=params)).json()
    async with _client(settings, session, addok_url) as external:
        answer = (await external.get("/api/v1/geocode/reverse", params=params)).json()
    assert answer["features"][0]["properties"]["id"] == "59350_0037_00014"
    assert _top(answer) == _top(builtin)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers (a hung service)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


async def test_unreachable_or_hung_service_is_a_french_503(settings, session, silent_port):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    for url in (f"http://127.0.0.1:{closed}", f"http://127.0.0.1:{silent_port}"):
        async with _client(settings, session, url, timeout_s=0.3) as external:
            resp = await external.get("/api/v1/geocode", params={"q": "Lille"})
            assert resp.status_code == 503, resp.text
            assert "ne répond pas" in resp.json()["message"]
            resp = await external.get("/api/v1/geocode/reverse", params={"lon": 3, "lat": 50})
            assert resp.status_code == 503
            # the query is still checked locally first: a bad one is a 400, not a 503
            bad = await external.get("/api/v1/geocode", params={"q": "x" * 300})
            assert bad.status_code == 400
