"""OGC API - Features at `/ogc`: tipg's `OGCFeaturesFactory` over the `public_layers` views.

tipg 1.6.1 embeds cleanly with our FastAPI/Starlette/pydantic versions, so we do not
hand-write the protocol. It runs as a sub-application mounted at `/ogc` (its own state,
asyncpg pool, OpenAPI document at `/ogc/api` and error handlers); the main app's lifespan
calls `open_ogc` / `close_ogc`. What we adapt around it:

- collection ids are the view names (`communes`), not tipg's `public_layers.communes`;
- only `geom` is published (`geom_3857` and the like stay for the tiles);
- titles and descriptions come from the views' comments;
- our own landing page and conformance list: tipg implements Part 1 (core, GeoJSON, HTML,
  OpenAPI) and Part 3 (CQL2 `filter`, queryables); it has no Part 2 (`crs` parameter),
  so EPSG:2154 output is not offered and that class is not declared; what GDAL and QGIS
  need to filter on the server (CQL2 classes, OpenAPI 3.0 with per-property parameters)
  is in `ogc_clients`;
- errors answer JSON with a French message, never a 500 for bad input.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Annotated, Any

import asyncpg
import jinja2
import orjson
from cql2 import ParseError, ValidationError
from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Receive, Scope, Send
from tipg import errors as tipg_errors
from tipg.collections import Catalog, Collection, PgCollection, pg_get_collection_index
from tipg.database import close_db_connection, connection_factory
from tipg.dependencies import FilterLang, OutputType, filter_query
from tipg.factory import COMMON_CONFORMS, FEATURES_CONFORMS, OGCFeaturesFactory
from tipg.resources.enums import MediaType
from tipg.settings import DatabaseSettings

from carto.layers import ogc_csv
from carto.layers.catalog import GEOMETRY_COLUMN, SCHEMA
from carto.layers.cql import UnsupportedFilter
from carto.layers.ogc_clients import (
    FILTER_CONFORMANCE,
    ClientsMiddleware,
    described,
    openapi_document,
)
from carto.layers.ogc_guard import guarded
from carto.request_id import with_request_id
from carto.scaling.replica import ReplicaAwarePool, ReplicaMonitor
from carto.security_headers import install_docs

log = logging.getLogger("carto.ogc")

PREFIX = "/ogc"
TITLE = "Carto — couches publiques (OGC API - Features)"
DESCRIPTION = (
    "Communes, intercommunalités, signalements et contributions aux concertations, "
    "sans donnée personnelle. Licence ouverte Etalab 2.0."
)
CONFORMANCE = [*COMMON_CONFORMS, *FEATURES_CONFORMS, *FILTER_CONFORMANCE]
Output = Annotated[MediaType | None, Depends(OutputType)]
CATALOG_TTL = dt.timedelta(minutes=5)

_DESCRIPTIONS_SQL = """
    SELECT c.relname, obj_description(c.oid, 'pg_class')
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = $1
"""


def _db_settings() -> DatabaseSettings:
    return DatabaseSettings(schemas=[SCHEMA], only_spatial_tables=True)


def _publish(collection: Collection, comment: str | None) -> Collection:
    """The collection under its view name, mapping `geom` only, titled from the comment."""
    geoms = [c for c in collection.table_columns if c.is_geometry]
    geom = next((c for c in geoms if c.name == GEOMETRY_COLUMN), geoms[0] if geoms else None)
    hidden = {c.name for c in geoms if c is not geom}
    title, _, rest = (comment or collection.table).partition("\n")
    return guarded(collection).model_copy(
        update={
            "id": collection.table,
            "title": title.strip(),
            "description": (rest.strip() or title.strip()),
            "table_columns": [c for c in collection.table_columns if c.name not in hidden],
            "properties": [c for c in collection.properties if c.name not in hidden],
            "geometry_column": geom,
        }
    )


async def register_catalog(app: FastAPI, **_: Any) -> None:
    """(Re)read the public views into tipg's catalog, keyed by view name (on the primary:
    tipg's catalog functions live in `pg_temp`, which a hot standby cannot create)."""
    pool = app.state.pool
    async with getattr(pool, "primary", pool).acquire() as conn:
        collections = await pg_get_collection_index(conn, settings=_db_settings())
        comments = await described(conn, dict(await conn.fetch(_DESCRIPTIONS_SQL, SCHEMA)))
    published = [
        _publish(c, comments.get(c.table))
        for c in collections
        if isinstance(c, PgCollection) and c.dbschema == SCHEMA and c.type == "Table"
    ]
    app.state.collection_catalog = Catalog(
        collections={c.id: c for c in sorted(published, key=lambda c: c.id)},
        last_updated=dt.datetime.now(),
    )


async def _refresh(app: FastAPI) -> None:
    """Open the pool when needed and reread a missing or stale catalog (one at a time)."""
    async with app.state.ogc_lock:
        if app.state.pool is None:
            if not app.state.ogc_url:
                raise tipg_errors.MissingCollectionCatalog("no database URL")
            app.state.pool = await asyncpg.create_pool(
                app.state.ogc_url,
                min_size=1,
                max_size=app.state.ogc_max_connections,
                init=_reader_init,
                server_settings={"application_name": "carto-ogc"},
            )
            if app.state.ogc_read_url and app.state.ogc_monitor is not None:
                replica = await _replica_pool(app.state.ogc_read_url, app.state.ogc_max_connections)
                app.state.pool = ReplicaAwarePool(app.state.pool, replica, app.state.ogc_monitor)
        catalog: Catalog | None = getattr(app.state, "collection_catalog", None)
        if catalog is None or dt.datetime.now() - catalog["last_updated"] > CATALOG_TTL:
            await register_catalog(app)


_tipg_init = connection_factory([SCHEMA], "pg_temp")


async def _reader_init(conn: asyncpg.Connection) -> None:
    """tipg's connection set-up, which creates its catalog functions in `pg_temp`: a
    CREATE, which the reader role's read-only transactions refuse, so read-only is off
    for these statements only (RESET ALL on release brings the role's setting back too).
    The reader may create nothing but temporary objects: it has no CREATE on any schema."""
    await conn.execute("SET default_transaction_read_only = off")
    await _tipg_init(conn)
    await conn.execute("SET default_transaction_read_only = on")


async def _replica_init(conn: asyncpg.Connection) -> None:
    """tipg's connection set-up minus its catalog functions (a standby is read-only)."""
    for codec in ("json", "jsonb"):
        await conn.set_type_codec(
            codec, encoder=orjson.dumps, decoder=orjson.loads, schema="pg_catalog"
        )
    await conn.execute(f"SELECT set_config('search_path', '{SCHEMA},public', false)")


async def _replica_pool(url: str, max_connections: int) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        url,
        min_size=1,
        max_size=max_connections,
        init=_replica_init,
        server_settings={"application_name": "carto-ogc-read"},
    )


async def open_ogc(
    app: FastAPI,
    url: str,
    *,
    max_connections: int = 5,
    read_url: str | None = None,
    monitor: ReplicaMonitor | None = None,
) -> None:
    """Point the sub-app at `url` (libpq form) and try to open its pool and catalog now;
    with `read_url` and its `monitor`, items are read from that replica while it keeps up.

    A database that is not up yet is not fatal: the first OGC request retries, and
    answers 503 until it succeeds (as /healthz does).
    """
    app.state.ogc_url = url
    app.state.ogc_max_connections = max_connections
    app.state.ogc_read_url = read_url
    app.state.ogc_monitor = monitor
    try:
        await _refresh(app)
    except (OSError, asyncpg.PostgresError) as exc:
        log.warning("OGC API: database not reachable yet (%s)", exc)


async def close_ogc(app: FastAPI) -> None:
    if app.state.pool is not None:
        await close_db_connection(app)
    app.state.pool = None
    app.state.collection_catalog = None


class CatalogMiddleware:
    """Keeps the pool open and the catalog fresh; 503 (JSON) while the database is away."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            try:
                await _refresh(scope["app"])
            except (OSError, asyncpg.PostgresError, tipg_errors.MissingCollectionCatalog) as exc:
                log.warning("OGC API unavailable: %s", exc)
                response = _error(503, "unavailable", "Service OGC indisponible : base absente.")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def collection_param(
    request: Request,
    collectionId: Annotated[str, Path(description="Identifiant de la collection")],  # noqa: N803
) -> Collection:
    """The collection named in the path (a view of `public_layers`), or a French 404."""
    catalog: Catalog | None = getattr(request.app.state, "collection_catalog", None)
    if catalog is None:
        raise tipg_errors.MissingCollectionCatalog("catalogue non chargé")
    try:
        return catalog["collections"][collectionId]
    except KeyError:
        raise tipg_errors.NotFound(f"Collection inconnue : {collectionId}.") from None


class InvalidFilter(ValueError):
    """A CQL2 `filter` that does not parse (cql2 raises a bare Exception)."""


def checked_filter_query(
    query: Annotated[str | None, Query(alias="filter", description="Filtre CQL2")] = None,
    filter_lang: Annotated[FilterLang | None, Query(alias="filter-lang")] = None,
) -> Any:
    """tipg's `filter_query`, with parse failures turned into a 422 instead of a 500."""
    try:
        return filter_query(query, filter_lang)
    except (ParseError, ValidationError, ValueError):
        raise
    except Exception as exc:  # cql2's parser raises plain Exception
        raise InvalidFilter(str(exc).splitlines()[0] if str(exc) else "syntaxe") from None


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


_BAD_INPUT: dict[type[Exception], tuple[int, str, str]] = {
    tipg_errors.NotFound: (404, "not_found", "Objet introuvable"),
    tipg_errors.InvalidBBox: (422, "invalid_input", "bbox invalide"),
    tipg_errors.InvalidDatetime: (422, "invalid_input", "datetime invalide"),
    tipg_errors.InvalidLimit: (422, "invalid_input", "limit trop grand"),
    tipg_errors.InvalidPropertyName: (422, "invalid_input", "propriété inconnue"),
    tipg_errors.InvalidGeometryColumnName: (422, "invalid_input", "colonne géométrique inconnue"),
    tipg_errors.InvalidDatetimeColumnName: (422, "invalid_input", "colonne de date inconnue"),
    tipg_errors.MissingDatetimeColumn: (422, "invalid_input", "cette couche n'a pas de date"),
    tipg_errors.NoPrimaryKey: (422, "invalid_input", "cette couche n'a pas d'identifiant"),
    InvalidFilter: (422, "invalid_input", "filtre CQL2 illisible"),
    ParseError: (422, "invalid_input", "filtre CQL2 illisible"),
}
# Messages that may carry what the database or a library saw (the values of other
# rows, file contents, SQL): a fixed French label only, the details go to the log
# under the request id the answer carries.
_OPAQUE: dict[type[Exception], tuple[int, str, str]] = {
    ValueError: (422, "invalid_input", "Paramètre invalide."),
    ValidationError: (422, "invalid_input", "Filtre CQL2 invalide."),
    asyncpg.DataError: (422, "invalid_input", "Valeur de filtre invalide."),
    asyncpg.UndefinedColumnError: (422, "invalid_input", "Propriété inconnue dans le filtre."),
    asyncpg.UndefinedFunctionError: (422, "invalid_input", "Opération non prise en charge."),
}

# What the reader role refuses (a filter reaching a table or a file, a write, a statement
# over its timeout): answered without the database's text.
_REFUSED: dict[type[Exception], tuple[int, str, str]] = {
    asyncpg.InsufficientPrivilegeError: (400, "forbidden_operation", "Opération non autorisée."),
    asyncpg.ReadOnlySQLTransactionError: (400, "forbidden_operation", "Opération non autorisée."),
    asyncpg.QueryCanceledError: (
        503,
        "timeout",
        "Requête trop longue : réessayez avec un filtre plus étroit.",
    ),
}


def _register_errors(app: FastAPI) -> None:
    def bad_input(status: int, code: str, label: str) -> Any:
        async def handler(request: Request, exc: Exception) -> JSONResponse:
            log.info("ogc %s on %s: %s", code, request.url.path, exc)
            detail = str(exc).strip()
            # Only our own messages (French) and tipg's short ones are echoed back.
            message = f"{label} : {detail}" if detail and len(detail) < 200 else label
            return _error(status, code, message[:300])

        return handler

    def opaque(status: int, code: str, message: str, *, level: int = logging.INFO) -> Any:
        async def handler(request: Request, exc: Exception) -> JSONResponse:
            log.log(level, "ogc %s on %s: %r", code, request.url.path, exc)
            body = with_request_id({"error": code, "message": message})
            return JSONResponse(body, status_code=status)

        return handler

    for exc_type, (status, code, label) in _BAD_INPUT.items():
        app.add_exception_handler(exc_type, bad_input(status, code, label))
    for exc_type, (status, code, label) in _OPAQUE.items():
        app.add_exception_handler(exc_type, opaque(status, code, label))

    @app.exception_handler(UnsupportedFilter)
    async def _unsupported(request: Request, exc: UnsupportedFilter) -> JSONResponse:
        log.info("ogc filter refused on %s: %s", request.url.path, exc)
        return _error(400, "unsupported_filter", str(exc))

    # What the reader role refused: the same opaque answer (the database's text names
    # what it guards), logged as a warning since it is most likely an attack.
    for exc_type, (status, code, label) in _REFUSED.items():
        app.add_exception_handler(exc_type, opaque(status, code, label, level=logging.WARNING))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled OGC error on %s", request.url.path)
        return _error(500, "internal", "Erreur interne ; elle a été journalisée.")

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = ", ".join(str(e.get("loc", ("?",))[-1]) for e in exc.errors())
        return _error(422, "invalid_input", f"Paramètre invalide : {fields}.")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = "Ressource introuvable." if exc.status_code == 404 else str(exc.detail)
        return _error(exc.status_code, "http_error", message)


class _NonceLoader(jinja2.BaseLoader):
    """tipg's templates, ours first (`carto/layers/templates`: a header that loads
    Bootstrap, jQuery and Leaflet from `/ogc/static`, not from CDNs), with this request's
    CSP nonce on every `<script>` tag: their inline scripts run under
    `carto.security_headers.ogc_policy`, anything else does not."""

    def __init__(self) -> None:
        self.choice = jinja2.ChoiceLoader(
            [jinja2.PackageLoader("carto.layers", "templates"), jinja2.PackageLoader("tipg")]
        )

    def get_source(self, environment: jinja2.Environment, template: str) -> Any:
        source, filename, uptodate = self.choice.get_source(environment, template)
        tagged = source.replace("<script", '<script nonce="{{ request.state.csp_nonce }}"')
        return tagged, filename, uptodate


def _templates() -> Jinja2Templates:
    env = jinja2.Environment(loader=_NonceLoader(), autoescape=True)
    return Jinja2Templates(env=env)


def _link(href: str, rel: str, media: str, title: str) -> dict[str, str]:
    return {"href": href, "rel": rel, "type": media, "title": title}


def _add_common_routes(app: FastAPI, endpoints: OGCFeaturesFactory) -> None:
    """Landing page and conformance, with links into this sub-app (not the main app)."""

    @app.get("/", tags=["OGC Common"], name="landing")
    def landing(request: Request, output_type: Output = None) -> Any:
        base = str(request.base_url).rstrip("/") + PREFIX
        data = {
            "title": TITLE,
            "description": DESCRIPTION,
            "links": [
                _link(f"{base}/", "self", MediaType.json.value, "Page d'accueil"),
                _link(f"{base}/api", "service-desc", MediaType.openapi30_json.value, "OpenAPI"),
                _link(f"{base}/api.html", "service-doc", MediaType.html.value, "Documentation"),
                _link(f"{base}/conformance", "conformance", MediaType.json.value, "Conformité"),
                _link(f"{base}/collections", "data", MediaType.json.value, "Collections"),
            ],
        }
        if output_type == MediaType.html:
            return endpoints._create_html_response(request, data, "landing", title=TITLE)
        return JSONResponse(data)

    @app.get("/conformance", tags=["OGC Common"], name="conformance")
    def conformance(request: Request, output_type: Output = None) -> Any:
        data = {"conformsTo": CONFORMANCE}
        if output_type == MediaType.html:
            return endpoints._create_html_response(request, data, "conformance")
        return JSONResponse(data)


def build_ogc_app() -> FastAPI:
    """The `/ogc` sub-application (mount it; open its pool with `open_ogc`)."""
    app = FastAPI(
        title=TITLE,
        description=DESCRIPTION,
        openapi_url="/api",
        docs_url=None,  # install_docs below: Swagger UI with its CSP
        redoc_url=None,
    )
    ogc_csv.install()  # f=csv: empty pages and formula cells (carto/layers/ogc_csv.py)
    app.state.pool = None
    app.state.collection_catalog = None
    app.state.ogc_url = None
    app.state.ogc_max_connections = 5
    app.state.ogc_read_url = None
    app.state.ogc_monitor = None
    app.state.ogc_lock = asyncio.Lock()
    endpoints = OGCFeaturesFactory(
        title=TITLE,
        router_prefix=PREFIX,
        collection_dependency=collection_param,
        templates=_templates(),
        with_common=False,
    )
    _add_common_routes(app, endpoints)
    app.mount("/static", StaticFiles(packages=[("carto.layers", "static/ogc")]), name="static")
    app.include_router(endpoints.router)
    app.dependency_overrides[filter_query] = checked_filter_query
    app.add_middleware(ClientsMiddleware)
    app.add_middleware(CatalogMiddleware)
    app.openapi = lambda: openapi_document(app)  # type: ignore[method-assign]
    _register_errors(app)
    install_docs(app, "/api.html")
    return app
