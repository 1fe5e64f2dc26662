"""The pure-ASGI vector tile path (carto/tiles/lean.py) answers exactly as the FastAPI route.

Two servers on the run's database: the app as served, and the same app without the
lean path (so the route answers everything). Same requests, same answers: status,
headers in order (but Date and X-Request-ID), bytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest

from carto.app import create_app
from carto.settings import Settings
from carto.tiles import lean
from carto.tiles.grid import mercator_tms
from carto.tiles.lean import LeanTileRoute
from tests.conftest import serve_in_thread

VARYING = {b"date", b"x-request-id"}


@pytest.fixture(scope="module")
def servers(demo_db: str, settings: Settings) -> Iterator[tuple[str, str]]:
    """(lean, route): the served app, and the same app whose route answers every tile.
    Tile cache off: each answer is rendered, so both name the same X-Tile-Source."""
    uncached = settings.model_copy(update={"tile_cache": False})
    served = create_app(uncached, db_url=demo_db)
    reference = create_app(uncached, db_url=demo_db)
    reference.user_middleware = [m for m in reference.user_middleware if m.cls is not LeanTileRoute]
    with serve_in_thread(served) as lean_url, serve_in_thread(reference) as route_url:
        yield lean_url, route_url


def tile_paths(demo_db: str) -> list[str]:
    """Stored points (features), clusters, view points (date filter), polygons, an empty
    tile, and the errors: unknown layer, off the grid, outside the layer, bad values."""
    with psycopg.connect(demo_db) as conn:
        lon, lat = conn.execute(
            "SELECT ST_X(geom), ST_Y(geom) FROM public_layers.signalements ORDER BY id LIMIT 1"
        ).fetchone()  # type: ignore[misc]
    tms = mercator_tms()
    t14, t8 = tms.tile(lon, lat, 14), tms.tile(lon, lat, 8)
    z14 = f"/tiles/signalements/14/{t14.x}/{t14.y}.mvt"
    return [
        z14,
        f"/tiles/signalements/8/{t8.x}/{t8.y}.mvt",
        z14 + "?state=new,in_progress",
        z14 + "?from=2000-01-01",
        f"/tiles/communes/8/{t8.x}/{t8.y}.mvt",
        "/tiles/signalements/14/0/0.mvt",
        f"/tiles/signalements/014/{t14.x}/{t14.y}.mvt",
        "/tiles/nope/3/4/2.mvt",
        "/tiles/signalements/40/0/0.mvt",
        "/tiles/signalements/2/9/0.mvt",
        "/tiles/signalements/a/0/0.mvt",
        z14 + "?state=" + "x" * 90,
        z14 + "?from=hier",
    ]


def answer(client: httpx.Client, path: str, **headers: str) -> tuple[int, list[Any], bytes]:
    resp = client.get(path, headers=headers)
    assert resp.headers.get("x-request-id")
    kept = [(k.lower(), v) for k, v in resp.headers.raw if k.lower() not in VARYING]
    return resp.status_code, kept, resp.content


def test_lean_path_answers_as_the_route(servers, demo_db, monkeypatch) -> None:
    served: list[int] = []
    headers_of = lean.tile_headers

    def spy(status: int, *args: Any) -> list[Any]:
        served.append(status)
        return headers_of(status, *args)

    monkeypatch.setattr(lean, "tile_headers", spy)
    lean_url, route_url = servers
    statuses = []
    with httpx.Client(base_url=lean_url) as fast, httpx.Client(base_url=route_url) as slow:
        for path in tile_paths(demo_db):
            for extra in ({}, {"Origin": "https://ailleurs.example"}):
                expected = answer(slow, path, **extra)
                assert answer(fast, path, **extra) == expected, path
                statuses.append(expected[0])
                etag = dict(expected[1]).get(b"etag")
                if etag:
                    again = answer(slow, path, **extra, **{"If-None-Match": etag.decode()})
                    assert again[0] == 304
                    assert answer(fast, path, **extra, **{"If-None-Match": etag.decode()}) == again
    assert {200, 204, 404, 422} <= set(statuses)
    # Every success (and its 304) came through the lean path, no error did.
    successes = [s for s in statuses if s < 300]
    assert sorted(served) == sorted(successes + [304] * len(successes))


def test_lean_path_serves_and_stores_cached_tiles(demo_db, settings) -> None:
    """With the cache on, a second request is answered from it, same bytes and ETag."""
    cached = settings.model_copy(update={"tile_cache": True, "tile_cache_min_ms": 0.0})
    path = tile_paths(demo_db)[0]
    with psycopg.connect(demo_db, autocommit=True) as conn:
        conn.execute("DELETE FROM tiles.tile_cache WHERE layer = 'signalements'")
    with serve_in_thread(create_app(cached, db_url=demo_db)) as base, httpx.Client() as client:
        first, second = client.get(base + path), client.get(base + path)
    assert first.status_code == second.status_code == 200
    assert first.headers["x-tile-source"] == "features"
    assert second.headers["x-tile-source"] == "cache"
    assert (second.content, second.headers["etag"]) == (first.content, first.headers["etag"])
