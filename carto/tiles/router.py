"""HTTP face of the tiles: MVT, TileJSON, heatmap PNG, H3 hexagons (base /tiles).

Thin: parse and validate, call the services, shape caching headers.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from carto.tiles import heat, hexagons, service
from carto.tiles.db import TileDB, get_tile_db
from carto.tiles.filters import parse_filters
from carto.tiles.grid import check_tile
from carto.tiles.layers import get_layer
from carto.tiles.tilejson import deployment_bounds, deployment_extent, tilejson

router = APIRouter(prefix="/tiles", tags=["tiles"])
DbDep = Annotated[TileDB, Depends(get_tile_db)]

MVT = "application/vnd.mapbox-vector-tile"
CACHE_CONTROL = {
    "point": "public, max-age=30, stale-while-revalidate=60",
    "polygon": "public, max-age=3600",
}
HEAT_CACHE_CONTROL = "public, max-age=60"
# Also answered, on its success path, by carto/tiles/lean.py (same bytes, same headers).
VECTOR_TILE_PATH = "/tiles/{layer}/{z}/{x}/{y}.mvt"


def _not_modified(request: Request, etag: str) -> bool:
    tags = request.headers.get("if-none-match", "")
    return etag in {t.strip() for t in tags.split(",")} or tags.strip() == "*"


def _answer(request: Request, body: bytes, etag: str, media_type: str, cache: str) -> Response:
    headers = {"ETag": etag, "Cache-Control": cache}
    if _not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    if not body:
        return Response(status_code=204, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


@router.get("/heatmap/{layer}/{z}/{x}/{y}.png", summary="Tuile de densité (PNG 256×256)")
async def heatmap_tile(request: Request, db: DbDep, layer: str, z: int, x: int, y: int) -> Response:
    """Density of the layer's points, weighted with `?weight=` when given; one colour
    scale per zoom level, transparent where there is nothing."""
    lay = get_layer(layer, kind="point")
    tile = check_tile(z, x, y, maxzoom=lay.heat_maxzoom)
    filters = parse_filters(lay, request.query_params, allow_weight=True)
    png = await heat.heat_tile(db=db, layer=lay, tile=tile, filters=filters)
    return _answer(request, png, service.etag_of(png), "image/png", HEAT_CACHE_CONTROL)


@router.get("/hexagons/{layer}.geojson", summary="Comptages par hexagone H3 (GeoJSON)")
async def hexagon_layer(
    request: Request,
    db: DbDep,
    layer: str,
    resolution: int = 8,
    bbox: str | None = None,
) -> JSONResponse:
    """Counts per H3 cell in `bbox` (default: the whole deployment), with the tile filters."""
    lay = get_layer(layer, kind="point")
    filters = parse_filters(lay, request.query_params, allow_weight=True)
    box = hexagons.parse_bbox(bbox) or await deployment_bounds(db)
    collection = await hexagons.hexagon_counts(
        db=db,
        layer=lay,
        bbox=box,
        resolution=hexagons.check_resolution(resolution),
        filters=filters,
    )
    return JSONResponse(collection, media_type="application/geo+json")


@router.get("/{layer}.json", summary="TileJSON 3.0 d'une couche")
async def layer_tilejson(request: Request, db: DbDep, layer: str) -> JSONResponse:
    lay = get_layer(layer)
    filters = parse_filters(lay, request.query_params)
    query = {k: v for k, v in request.query_params.items() if k in {*filters.values, "from", "to"}}
    bounds, centre = await deployment_extent(db)
    # CARTO_PUBLIC_URL, never the Host header: this answer is cached publicly, and an
    # allowed name with a forged port (`Host: carto.example:1`) poisoned its tile URLs.
    base = str(request.app.state.public_url)
    doc = tilejson(lay, base_url=base, bounds=bounds, centre=centre, query=query)
    return JSONResponse(doc, headers={"Cache-Control": "public, max-age=300"})


@router.get(
    VECTOR_TILE_PATH.removeprefix("/tiles"),
    summary="Tuile vectorielle (Mapbox Vector Tile)",
    response_class=Response,
    responses={200: {"content": {MVT: {}}}, 204: {"description": "Tuile vide"}},
)
async def vector_tile(request: Request, db: DbDep, layer: str, z: int, x: int, y: int) -> Response:
    """One MVT layer named after `layer`; filters as query parameters."""
    lay = get_layer(layer)
    tile = check_tile(z, x, y, minzoom=lay.minzoom, maxzoom=lay.maxzoom)
    filters = parse_filters(lay, request.query_params)
    settings = request.app.state.settings
    result = await service.get_tile(
        db=db,
        layer=lay,
        tile=tile,
        filters=filters,
        use_cache=settings.tile_cache,
        cache_min_ms=settings.tile_cache_min_ms,
    )
    response = _answer(request, result.body, result.etag, MVT, CACHE_CONTROL[lay.kind])
    response.headers["X-Tile-Source"] = result.mode
    return response
