"""ASGI factory for the benchmark: the product's app with the bench table as a tile layer.

`uvicorn bench.tiles.serve:app --factory --workers N` with CARTO_DATABASE_URL set.
"""

from __future__ import annotations

import os

from fastapi import FastAPI

from carto.app import create_app
from carto.settings import get_settings
from carto.tiles.layers import TILE_LAYERS, Filter, TileLayer
from carto.tiles.lean import LeanTileRoute

BENCH_LAYER = TileLayer(
    name="bench_points",
    kind="point",
    source="bench.points",
    title="Points du banc d'essai",
    description="Points aléatoires (MEL et France) pour mesurer les tuiles.",
    properties={
        "id": "Number",
        "service_code": "String",
        "state": "String",
        "supports": "Number",
        "count": "Number",
    },
    filters=(Filter("service_code", "service_code", "a"), Filter("state", "state", "b")),
    date_column="created_at",
    weights={"supports": "supports"},
    # CARTO_BENCH_STORED=0: the ST_AsMVT path, for an A/B in the same run
    stored_points=os.environ.get("CARTO_BENCH_STORED", "1") == "1",
)


def app() -> FastAPI:
    TILE_LAYERS.register(BENCH_LAYER.name, BENCH_LAYER)
    settings = get_settings()
    served = create_app(settings, db_url=settings.database_url, freeze_heap=True)  # as served
    if os.environ.get("CARTO_BENCH_LEAN", "1") == "0":  # the FastAPI route answers every tile
        served.user_middleware = [m for m in served.user_middleware if m.cls is not LeanTileRoute]
    return served
