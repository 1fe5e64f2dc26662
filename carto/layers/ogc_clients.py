"""What outside OGC API clients (GDAL's OAPIF driver, QGIS) need beyond tipg's defaults.

- The filtering they may push to the server, declared where they look: CQL2 conformance
  classes, and an OpenAPI 3.0 document listing `/collections/{id}/items` for each
  collection with one query parameter per property and `filter-lang` accepting
  `cql-text` (GDAL 3.6 reads exactly that: without it it downloads every feature and
  filters on the client, 10 a page).
- Requests made lenient where the specification is: a `limit` above the maximum is
  capped (the answer's links carry the capped value), `filter-lang=cql-text` is the
  CQL2 text it has become, and `Accept: application/json` on items means GeoJSON.
- Answers made consistent: `/collections` titles are the collections' titles, as each
  collection says, `/api` is served with the OpenAPI 3.0 media type it announces, and
  queryables asked for as `application/json` come as that.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import asyncpg
import orjson
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from tipg.collections import Catalog
from tipg.factory import features_settings

MAX_LIMIT = features_settings.max_features_per_query
OPENAPI_VERSION = "3.0.3"
OPENAPI_MEDIA = "application/vnd.oai.openapi+json;version=3.0"
CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/"
FILTERS = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
FILTER_CONFORMANCE = [
    f"{FILTERS}queryables",
    f"{FILTERS}queryables-query-parameters",
    f"{CQL2}cql2-text",
    f"{CQL2}cql2-json",
    f"{CQL2}basic-cql2",
    f"{CQL2}advanced-comparison-operators",
    f"{CQL2}basic-spatial-functions",
]
FILTER_LANGS = ["cql2-text", "cql2-json", "cql-text"]  # cql-text: GDAL 3.6's name
_ITEMS = re.compile(r"/collections/[^/]+/items(/[^/]+)?$")
_SCHEMA = {
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "datetime": {"type": "string", "format": "date-time"},
    "date": {"type": "string", "format": "date"},
}


def _to_openapi30(node: Any) -> Any:
    """FastAPI writes OpenAPI 3.1 schemas; 3.0 spells `X or null` as `nullable`."""
    if isinstance(node, list):
        return [_to_openapi30(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _to_openapi30(v) for k, v in node.items()}
    options = out.get("anyOf")
    if isinstance(options, list) and {"type": "null"} in options:
        rest = [o for o in options if o != {"type": "null"}]
        del out["anyOf"]
        out.update(rest[0] if len(rest) == 1 else {"anyOf": rest})
        out["nullable"] = True
    if isinstance(out.get("examples"), list):  # a JSON Schema list, not 3.0's example map
        examples = out.pop("examples")
        if examples:
            out["example"] = examples[0]
    if "const" in out and isinstance(out.get("type"), str):
        out["enum"] = [out.pop("const")]
    return out


def _items_parameters(template: list[dict[str, Any]], collection: Any) -> list[dict[str, Any]]:
    """The generic items parameters without the path one, then one per property."""
    params = [p for p in template if p.get("in") != "path"]
    known = {p.get("name") for p in params}
    geometry = collection.geometry_column.name if collection.geometry_column else None
    for column in collection.properties:
        if column.name in known or column.name == geometry:
            continue
        kind = _column_kind(column.type)
        params.append(
            {
                "name": column.name,
                "in": "query",
                "required": False,
                "description": f"Égal à cette valeur ({column.name})",
                "schema": _SCHEMA.get(kind, {"type": "string"}),
            }
        )
    return params


def _column_kind(pg_type: str) -> str:
    name = pg_type.lower()
    if name in {"int2", "int4", "int8", "smallint", "integer", "bigint"}:
        return "integer"
    if name in {"float4", "float8", "numeric", "real", "double precision"}:
        return "number"
    if name in {"bool", "boolean"}:
        return "boolean"
    if name.startswith("timestamp"):
        return "datetime"
    return "date" if name == "date" else "text"


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI 3.0 document: FastAPI's (converted once) plus each collection's items
    path with its properties as parameters (re-read with the catalog)."""
    base = app.state.__dict__.get("openapi_base")
    if base is None:
        generated = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            servers=app.servers or None,  # the mount point, added by FastAPI's /api route
        )
        base = _to_openapi30(generated)
        base["openapi"] = OPENAPI_VERSION
        app.state.openapi_base = base
    document = copy.deepcopy(base)
    template = document["paths"].get("/collections/{collectionId}/items", {}).get("get")
    catalog: Catalog | None = getattr(app.state, "collection_catalog", None)
    if template is None or catalog is None:
        return document
    for param in template.get("parameters", []):
        if param.get("name") == "filter-lang":
            param["schema"] = {"type": "string", "enum": FILTER_LANGS}
    for ident, collection in catalog["collections"].items():
        operation = copy.deepcopy(template)
        operation["operationId"] = f"items_{ident}"
        operation["summary"] = f"{collection.title or ident} : objets"
        operation["parameters"] = _items_parameters(template.get("parameters", []), collection)
        document["paths"][f"/collections/{ident}/items"] = {"get": operation}
    return document


# Views whose migration left no comment (first line title, then description).
FALLBACK_COMMENTS = {
    "concertations": (
        "Concertations\nPérimètres des concertations publiques : titre, type, statut, dates "
        "d'ouverture et de clôture, nombre de contributions."
    ),
    "contributions": (
        "Contributions\nContributions publiées aux concertations : thème, type, titre, votes "
        "pour et contre, réponse de la collectivité. Sans donnée personnelle."
    ),
    "reference_features": (
        "Couches de référence\nObjets des couches de référence des concertations (existant, "
        "projets, contraintes), avec leur couche et leur concertation."
    ),
}
_ARRONDISSEMENTS_SQL = """
    SELECT count(*), string_agg(DISTINCT c.nom, ', ' ORDER BY c.nom)
    FROM public_layers.arrondissements r
    LEFT JOIN public_layers.communes c ON c.insee = r.commune_insee
"""


async def described(conn: asyncpg.Connection, comments: dict[str, str]) -> dict[str, str]:
    """The views' comments, completed: a fallback for views without one, and the
    arrondissements described from what is loaded (the comment names every city that
    has some, whether or not the deployment holds them)."""
    out = {**FALLBACK_COMMENTS, **{k: v for k, v in comments.items() if v}}
    if "arrondissements" in out:
        count, cities = await conn.fetchrow(_ARRONDISSEMENTS_SQL)
        where = f" de {cities}" if cities else ""
        out["arrondissements"] = (
            "Arrondissements municipaux\n"
            f"{count} arrondissements municipaux{where}, avec leur commune de rattachement, "
            "leur code INSEE et leur population."
        )
    return out


def _lenient_query(query: bytes) -> bytes:
    """`limit` capped at the maximum, `filter-lang=cql-text` read as `cql2-text`; every
    other byte left as sent (the parameters' own parsers judge them)."""
    parts = query.split(b"&")
    for i, part in enumerate(parts):
        key, _, value = part.partition(b"=")
        if key == b"limit" and re.fullmatch(rb"[0-9]{1,12}", value) and int(value) > MAX_LIMIT:
            parts[i] = b"limit=%d" % MAX_LIMIT
        elif key == b"filter-lang" and value == b"cql-text":
            parts[i] = b"filter-lang=cql2-text"
    return b"&".join(parts)


def _geojson_accept(scope: Scope) -> None:
    """`Accept: application/json` (without `f=`) on items: GeoJSON, a kind of JSON."""
    if b"f=" in scope.get("query_string", b""):
        return
    headers = scope["headers"]
    accept = next((v for k, v in headers if k == b"accept"), b"").lower()
    if b"application/json" in accept and b"geo+json" not in accept and b"html" not in accept:
        scope["headers"] = [(k, v) for k, v in headers if k != b"accept"]
        scope["headers"].append((b"accept", b"application/geo+json"))


def _asks_plain_json(scope: Scope) -> bool:
    accept = next((v for k, v in scope["headers"] if k == b"accept"), b"").lower()
    return b"f=" not in scope.get("query_string", b"") and (
        b"application/json" in accept and b"schema+json" not in accept
    )


class ClientsMiddleware:
    """Applies the request leniencies above and the two answer fixes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if _ITEMS.search(path):
            # In place, not a copy: outer middlewares (metrics) read the route the router
            # writes into this same scope.
            scope["query_string"] = _lenient_query(scope.get("query_string", b""))
            _geojson_accept(scope)
            await self.app(scope, receive, send)
        elif path.endswith("/collections"):
            await self.app(scope, receive, _titled(scope, send))
        elif path.endswith("/api"):
            await self.app(scope, receive, _media_type(send, OPENAPI_MEDIA))
        elif path.endswith("/queryables") and _asks_plain_json(scope):
            # A JSON Schema is JSON: GDAL asks for application/json and refuses the rest.
            await self.app(scope, receive, _media_type(send, "application/json"))
        else:
            await self.app(scope, receive, send)


def _media_type(send: Send, media: str) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] == 200:
            headers = [(k, v) for k, v in message["headers"] if k != b"content-type"]
            message = {**message, "headers": [*headers, (b"content-type", media.encode())]}
        await send(message)

    return wrapped


def _titled(scope: Scope, send: Send) -> Send:
    """tipg lists collections titled by their ids: put each collection's title back."""
    start: dict[str, Any] = {}
    body = bytearray()

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
            return
        body.extend(message.get("body", b""))
        if message.get("more_body"):
            return
        data = bytes(body)
        headers = dict(start.get("headers", []))
        if start.get("status") == 200 and headers.get(b"content-type", b"").startswith(
            b"application/json"
        ):
            data = _retitle(scope, data)
        out = [(k, v) for k, v in start.get("headers", []) if k != b"content-length"]
        out.append((b"content-length", str(len(data)).encode()))
        await send({**start, "headers": out})
        await send({"type": "http.response.body", "body": data})

    return wrapped


def _retitle(scope: Scope, data: bytes) -> bytes:
    catalog: Catalog | None = getattr(scope["app"].state, "collection_catalog", None)
    if catalog is None:
        return data
    document = orjson.loads(data)
    for item in document.get("collections", []):
        found = catalog["collections"].get(item.get("id"))
        if found is not None:
            item["title"] = found.title or item["id"]
            item["description"] = found.description or item.get("description")
    return orjson.dumps(document)
