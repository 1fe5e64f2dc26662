"""The vector tile route without FastAPI's request machinery: a pure-ASGI fast path.

Why: a sparse z14 tile costs PostGIS well under a millisecond, and the FastAPI route
around it cost more (dependency solving, path-parameter validation, route matching,
the Request and Response objects, the exception middleware): profiled under the
tiles benchmark, about three quarters of the app's CPU per tile went there, and the
stored-point path was no faster than plain ST_AsMVT. This middleware sits innermost
among the app's own middlewares (carto/app.py), so request ids, the Host check,
CORS, security headers, metrics and body limits apply to tiles exactly as before,
and answers `GET /tiles/{layer}/{z}/{x}/{y}.mvt` itself with prebuilt headers.

It serves only the plain success path, with the same service call and the same bytes
as `carto.tiles.router.vector_tile`. Anything else (another method, an unknown
layer, a tile off the grid, a bad filter, a borrowed test session) goes on to that
route, which stays the reference: it answers every error in the app's shape and
documents the route in OpenAPI (tests/tiles/test_lean_route.py compares the two).
"""

from __future__ import annotations

import re
from typing import Any

from starlette.datastructures import QueryParams
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from carto.errors import CartoError
from carto.tiles import service
from carto.tiles.db import pooled_tile_db
from carto.tiles.filters import TileFilters, parse_filters
from carto.tiles.grid import TileRequest, check_tile
from carto.tiles.layers import TILE_LAYERS, TileLayer
from carto.tiles.router import CACHE_CONTROL, MVT, VECTOR_TILE_PATH, router

# ASCII digits only, as FastAPI's int path parameters (a bare \d took « ١٤ », read as 14,
# so another URL served a tile the route refuses); anything else goes on.
_PATH = re.compile(r"/tiles/([^/]+)/(\d{1,3})/(\d{1,10})/(\d{1,10})\.mvt", re.ASCII)
_NO_FILTERS = TileFilters()
_MVT = MVT.encode()
_CACHE = {kind: value.encode() for kind, value in CACHE_CONTROL.items()}
_SOURCES = {m: m.encode() for m in ("cache", "features", "clusters", "polygons")}
# Named in scope["route"] as the router would: the metrics label requests by its template.
_ROUTE = next(r for r in router.routes if getattr(r, "path", None) == VECTOR_TILE_PATH)


def not_modified(scope: Scope, etag: str) -> bool:
    """`If-None-Match` names this ETag (or is `*`): as `carto.tiles.router._not_modified`."""
    raw = next((v for k, v in scope["headers"] if k == b"if-none-match"), None)
    if raw is None:
        return False
    tags = raw.decode("latin-1")
    return etag in {t.strip() for t in tags.split(",")} or tags.strip() == "*"


def tile_headers(status: int, etag: str, kind: str, mode: str, size: int) -> list[Any]:
    """The route's headers, in its order (Starlette's Response: given headers, then
    content-length and content-type when there is a body, then X-Tile-Source)."""
    headers = [(b"etag", etag.encode()), (b"cache-control", _CACHE[kind])]
    if status == 200:
        headers += [(b"content-length", str(size).encode()), (b"content-type", _MVT)]
    headers.append((b"x-tile-source", _SOURCES.get(mode) or mode.encode()))
    return headers


def plain_tile_request(scope: Scope) -> tuple[TileLayer, TileRequest, TileFilters] | None:
    """The layer, tile and filters of a vector tile GET this path may answer; None when
    the route must (not a tile, a borrowed test session, or an error to answer)."""
    if scope["type"] != "http" or scope["method"] != "GET" or not scope["path"].endswith(".mvt"):
        return None
    match = _PATH.fullmatch(scope["path"])
    if match is None or getattr(scope["app"].state, "sessionmaker", None) is None:
        return None
    name, z, x, y = match.groups()
    layer = TILE_LAYERS.get(name)
    if layer is None:
        return None
    try:
        tile = check_tile(int(z), int(x), int(y), minzoom=layer.minzoom, maxzoom=layer.maxzoom)
        query = scope["query_string"]
        filters = parse_filters(layer, QueryParams(query)) if query else _NO_FILTERS
    except CartoError:
        return None
    return layer, tile, filters


class LeanTileRoute:
    """ASGI middleware: answers plain vector tile GETs, passes everything else on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        plain = plain_tile_request(scope)
        if plain is None:
            await self.app(scope, receive, send)
            return
        layer, tile, filters = plain
        state = scope["app"].state
        settings = state.settings
        result = await service.get_tile(
            db=await pooled_tile_db(state, HTTPConnection(scope)),
            layer=layer,
            tile=tile,
            filters=filters,
            use_cache=settings.tile_cache,
            cache_min_ms=settings.tile_cache_min_ms,
        )
        if not_modified(scope, result.etag):
            status, body = 304, b""
        else:
            status, body = (200, result.body) if result.body else (204, b"")
        scope["route"] = _ROUTE
        headers = tile_headers(status, result.etag, layer.kind, result.mode, len(body))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
