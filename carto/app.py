"""The app factory: `create_app(settings)` wires routers and a lifespan that owns the engine."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from carto.credentials import secret_key
from carto.db import make_async_engine, make_sessionmaker
from carto.error_handlers import register_error_handlers
from carto.health import expected_heads
from carto.health import router as health_router
from carto.runtime import database_url, role_urls
from carto.settings import Settings


def create_app(
    settings: Settings, *, db_url: str | None = None, freeze_heap: bool = False
) -> FastAPI:
    """A ready app. `db_url` overrides where the database is (tests, `carto demo`).

    `freeze_heap` (served processes): once started, the objects that live as long as
    the process (~380,000: modules, the OGC catalog, numba's compiled encoder) leave
    the cyclic collector's reach. Under intake load (32 clients, one worker) a full
    collection came about once a second and walked them all, ~145 ms during which
    every request in flight waited: p99 275-307 ms, 4.1x the median. Frozen: full
    collections cost 30 ms, p99 159-171 ms (2.4x), throughput +10 %.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        roles = role_urls(settings, db_url or database_url(settings))
        app.state.role_urls = roles  # writes as `app`, anonymous reads as `reader`
        engine = make_async_engine(
            roles.app, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow
        )
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        reader_engine = make_async_engine(
            roles.reader, pool_size=settings.reader_pool_size, max_overflow=0,
            application_name="carto-reader",
        )  # fmt: skip
        app.state.reader_engine = reader_engine
        app.state.reader_sessionmaker = make_sessionmaker(reader_engine)
        from carto.scaling.replica import close_read_side, open_read_side

        await open_read_side(app, settings)  # CARTO_READ_DATABASE_URL: replica engine, lag monitor
        from carto.layers.wiring import close_layers, open_layers

        await open_layers(app, roles.reader)  # the OGC API's own asyncpg pool (tipg)
        from carto.tiles.point_encoder import warm_up

        warm_up()  # compiled here (or loaded from numba's cache), not on the first tile
        if freeze_heap:
            gc.collect()  # what startup left unreachable goes now, not frozen with the rest
            gc.freeze()
        stop_worker = None
        if settings.notifications_worker:
            from carto.worker import start_background_worker  # outbox, tile fold, retention

            stop_worker = start_background_worker(engine, settings)
        try:
            yield
        finally:
            if stop_worker is not None:
                await stop_worker()
            await close_layers(app)
            from carto.tiles.db import close_tile_pool  # the tiles' own asyncpg pool

            await close_tile_pool(app)
            await close_read_side(app)
            await reader_engine.dispose()
            await engine.dispose()

    app = FastAPI(
        title="Carto",
        version="0.1.0",
        summary="Cartographie participative et signalements géolocalisés pour les collectivités.",
        lifespan=lifespan,
        docs_url=None,  # served by install_docs, with its Content-Security-Policy
        redoc_url=None,
    )
    app.state.settings = settings
    from carto.wiring import MAILER, register_variations

    register_variations()  # senders, personal-data providers (carto.wiring)
    app.state.mailer = MAILER  # the accounts' e-mails go through the outbox
    from carto.hosts import AllowedHosts, allowed_hosts, public_url

    app.state.public_url = public_url(settings)  # e-mailed links; never the Host header
    app.state.freeze_heap = freeze_heap
    app.state.secret_key = secret_key(settings)
    app.state.expected_heads = expected_heads()
    register_error_handlers(app)
    app.include_router(health_router)
    # Routes are matched in order, at a few µs each: the hottest paths come first (tiles,
    # cycled by every map view, then Open311 intake). Their prefixes overlap no other route.
    from carto.tiles.router import router as tiles_router  # /tiles: MVT, TileJSON, heatmaps

    app.include_router(tiles_router)
    from carto.signalements.open311 import fallback as open311_fallback
    from carto.signalements.open311 import router as open311_router  # reports from apps

    app.include_router(open311_router, prefix="/open311/v2")
    app.include_router(open311_fallback, prefix="/open311")  # its errors, in its shape
    from carto.accounts.router import pages as accounts_pages
    from carto.accounts.router import router as accounts_router
    from carto.routing.router import router as routing_router

    app.include_router(accounts_router, prefix="/api/v1")
    app.include_router(accounts_pages)
    app.include_router(routing_router, prefix="/api/v1")
    from carto.vocabulary.router import router as vocabulary_router  # codes and labels

    app.include_router(vocabulary_router, prefix="/api/v1")
    from carto.geocoding.router import router as geocoding_router  # /api/v1/geocode

    app.include_router(geocoding_router, prefix="/api/v1")
    from carto.geocoding.router import make_geocoder
    from carto.signalements.open311_input import address_geocoder

    # Open311 `address_string` alone is placed by the same provider as the search box.
    app.state.open311_geocoder = address_geocoder(make_geocoder(settings))
    from carto.apiclients.router import router as apiclients_router

    app.include_router(apiclients_router, prefix="/api/v1")
    from carto.signalements.router import router as signalements_router

    app.include_router(signalements_router, prefix="/api/v1")
    from carto.signalements.follow_page import router as follow_router  # links without account

    app.include_router(follow_router)
    from carto.signalements.address import external_lookup
    from carto.signalements.router_address import router as address_router

    app.include_router(address_router, prefix="/api/v1")  # a ticket's address, for staff
    # Intake addresses: the external provider's reverse, bounded, else the built-in one.
    app.state.intake_address = (
        external_lookup(make_geocoder(settings)) if settings.geocoder_url else None
    )
    from carto.rounds.router import router as rounds_router  # crew rounds along the streets

    app.include_router(rounds_router, prefix="/api/v1")
    from carto.concertations.router import router as concertations_router

    app.include_router(concertations_router, prefix="/api/v1")
    from carto.layers.wiring import install_layers  # /ogc (OGC API - Features), /exports

    install_layers(app)
    from carto.media.router import api_router as media_api
    from carto.media.router import files_router as media_files
    from carto.media.upload import BodySizeLimit
    from carto.signalements.open311_xml import too_large as open311_too_large

    app.include_router(media_api, prefix="/api/v1")
    app.include_router(media_files)
    from carto.concertations.router_staff import MAX_UPLOAD_BYTES as LAYER_UPLOAD_BYTES
    from carto.tiles.lean import LeanTileRoute

    # Added first, so innermost: every middleware below still wraps tiles; it answers plain
    # vector tile GETs without FastAPI's routing and dependencies (measured: carto/tiles/lean.py).
    app.add_middleware(LeanTileRoute)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        # reference layers (GeoPackage, zipped Shapefile) may be bigger than any photo
        overrides={r"/api/v1/concertations/[^/]+/reference-layers": LAYER_UPLOAD_BYTES + 2**20},
        shapes={"/open311/": open311_too_large},  # the specification's error shape
    )
    if settings.read_database_url:  # writers read their own writes from the primary
        from carto.scaling.replica import read_your_writes_window
        from carto.scaling.routing import ReadYourWrites

        app.add_middleware(ReadYourWrites, window_s=read_your_writes_window(settings))
    from carto.web import install_web  # /api/v1/config and the web map at /

    install_web(app)
    from carto.security_headers import SecurityHeaders, install_docs

    install_docs(app)  # /docs
    app.add_middleware(SecurityHeaders)  # CSP on HTML, nosniff, Referrer-Policy
    from carto.cors import Cors, origins

    app.add_middleware(Cors, allowed=origins(settings))  # public reads: any site
    app.add_middleware(AllowedHosts, hosts=allowed_hosts(settings))  # runs before the rest
    from carto.ops.metrics import install_metrics

    install_metrics(app, settings)  # /metrics behind CARTO_METRICS_TOKEN; times everything
    _with_request_ids(app)
    return app


def _with_request_ids(app: FastAPI) -> None:
    """X-Request-ID outside everything, Starlette's error middleware included, so that an
    unhandled 500 carries the id too (and its log lines)."""
    from carto.request_id import RequestIdMiddleware, stamp_log_records

    stamp_log_records()
    build = app.build_middleware_stack
    app.build_middleware_stack = lambda: RequestIdMiddleware(build())  # type: ignore[method-assign]
