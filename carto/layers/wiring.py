"""How the read side plugs into the app: `/ogc` (sub-app) and `/exports` (router).

Kept here so that `create_app` needs two lines: `install_layers(app)` when building,
`open_layers` / `close_layers` in its lifespan.
"""

from __future__ import annotations

from fastapi import FastAPI

from carto.db import libpq_url
from carto.layers.ogc import build_ogc_app, close_ogc, open_ogc


def install_layers(app: FastAPI) -> None:
    """Mount the OGC API at /ogc and the export routes at /exports."""
    from carto.layers.router import router as exports_router

    ogc = build_ogc_app()
    app.state.ogc_app = ogc
    app.mount("/ogc", ogc, name="ogc")
    app.include_router(exports_router, prefix="/exports")


async def open_layers(app: FastAPI, url: str) -> None:
    """Give the OGC sub-app its own small asyncpg pool, as the reader role (`url`), on the
    app's database (and on the read replica when one is configured:
    `carto.scaling.replica`)."""
    ogc = getattr(app.state, "ogc_app", None)
    if ogc is not None:
        settings = app.state.settings
        read_url = libpq_url(settings.read_database_url) if settings.read_database_url else None
        await open_ogc(
            ogc,
            libpq_url(url),
            max_connections=max(2, settings.reader_pool_size),
            read_url=read_url,
            monitor=getattr(app.state, "replica", None),
        )


async def close_layers(app: FastAPI) -> None:
    ogc = getattr(app.state, "ogc_app", None)
    if ogc is not None:
        await close_ogc(ogc)
