"""Serves the built web map (web/dist) at `/`, and the small config it reads at start.

The single-page app owns every path the API does not: an unmatched GET that
accepts HTML gets `index.html`, so `/suivi/42` can be bookmarked and shared.
The fallback is the router's *default* handler, not a catch-all route, so it
never shadows a route registered later, and paths under the API prefixes
(`/api`, `/open311`, `/ogc`, `/tiles`, ...) keep their JSON 404.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from pydantic import BaseModel
from sqlalchemy import select, text
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from carto.accounts.deps import Principal, require_role
from carto.deps import SessionDep
from carto.errors import InvalidInput
from carto.parsing import finite_numbers
from carto.security_headers import STRICT, web_app_policy
from carto.settings import Settings
from carto.territories.models import Authority

log = logging.getLogger("carto.web")

WEB_DIST = Path(__file__).resolve().parents[1] / "web" / "dist"

# Paths the app serves itself: the SPA never answers for them.
RESERVED_PREFIXES = (
    "/api",
    "/open311",
    "/ogc",
    "/tiles",
    "/exports",
    "/media",
    "/healthz",
    "/docs",
    "/redoc",
    "/openapi.json",
)

# Vite names bundled assets after their content hash: they may be cached for ever.
_HASHED = re.compile(r"^/assets/.+-[A-Za-z0-9_-]{8,}\.\w+$")

_NOT_BUILT = """<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>Carto</title></head><body><main><h1>Carto</h1>
<p>L'interface web n'est pas construite : lancez <code>make install</code>
(qui exécute <code>npm ci</code> et <code>npm run build</code> dans <code>web/</code>).</p>
<p>L'API reste disponible : <a href="/docs">/docs</a>.</p></main></body></html>"""


class Basemap(BaseModel):
    """An external base map: an XYZ raster template or a MapLibre style URL."""

    kind: Literal["raster", "style"]
    url: str
    attribution: str | None = None


class TerritoryExtent(BaseModel):
    """An intercommunality the demo (or deployment) covers, to jump to on the map."""

    name: str
    bbox: tuple[float, float, float, float]  # west, south, east, north (lon/lat)


class WebConfig(BaseModel):
    """What the page needs before drawing the map."""

    basemap: Basemap | None
    territories: list[TerritoryExtent]


router = APIRouter(tags=["web"])


def basemap_of(settings: Settings) -> Basemap | None:
    """`CARTO_BASEMAP_URL` read as a raster template when it has `{z}`, else a style."""
    url = settings.basemap_url
    if not url:
        return None
    kind: Literal["raster", "style"] = "raster" if "{z}" in url else "style"
    return Basemap(kind=kind, url=url, attribution=settings.basemap_attribution)


_EXTENTS_SQL = text(
    """
    SELECT nom, ST_XMin(e) AS w, ST_YMin(e) AS s, ST_XMax(e) AS e, ST_YMax(e) AS n
    FROM (SELECT nom, ST_Extent(geom)::geometry AS e FROM intercommunalite
          WHERE geom IS NOT NULL GROUP BY nom) AS x
    ORDER BY nom
    """
)


@router.get("/config", response_model=WebConfig)
async def web_config(request: Request, session: SessionDep) -> WebConfig:
    """Base map and the territories' extents: read once by the web map when it starts."""
    rows = (await session.execute(_EXTENTS_SQL)).all()
    territories = [TerritoryExtent(name=r.nom, bbox=(r.w, r.s, r.e, r.n)) for r in rows]
    return WebConfig(basemap=basemap_of(request.app.state.settings), territories=territories)


class AuthorityRef(BaseModel):
    """An authority the caller administers, as the administration screens pick it."""

    id: int
    slug: str
    name: str
    kind: str  # "commune" (code: INSEE) or "intercommunalite" (code: SIREN)
    code: str


@router.get("/admin/authorities", response_model=list[AuthorityRef])
async def my_authorities(
    session: SessionDep, principal: Annotated[Principal, Depends(require_role("admin"))]
) -> list[AuthorityRef]:
    """The authorities the caller administers (organisers, perimeters, services)."""
    rows = await session.execute(
        select(Authority)
        .where(Authority.id.in_(list(principal.admin_authority_ids)))
        .order_by(Authority.kind.desc(), Authority.name)
    )
    return [
        AuthorityRef(id=a.id, slug=a.slug, name=a.name, kind=a.kind, code=a.code)
        for a in rows.scalars()
    ]


# Streets imported by `carto import streets`, for the map's own base at street zoom.
# OSM data (no personal data); the box is capped so a call stays a small answer.
MAX_STREET_BOX_DEG2 = 0.01
STREET_LIMIT = 5000
_STREETS_SQL = text(
    """
    SELECT coalesce(json_agg(json_build_object(
        'type', 'Feature',
        'properties', json_build_object('name', name, 'road_class', road_class),
        'geometry', ST_AsGeoJSON(geom, 6)::json)), '[]'::json)
    FROM (SELECT name, road_class, geom FROM street_segment
          WHERE geom && ST_MakeEnvelope(:w, :s, :e, :n, 4326) LIMIT :limit) AS x
    """
)


@router.get("/streets")
async def streets(
    session: SessionDep, bbox: Annotated[str, Query(max_length=200)]
) -> dict[str, object]:
    """Street lines inside `bbox` (west,south,east,north) as GeoJSON; the web map draws
    them at street zoom when no external base map is configured."""
    try:
        w, s, e, n = finite_numbers(bbox, 4)
    except ValueError:
        raise InvalidInput("bbox attend quatre nombres : ouest,sud,est,nord.") from None
    if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
        raise InvalidInput("bbox invalide : ouest < est et sud < nord, en degrés.")
    if (e - w) * (n - s) > MAX_STREET_BOX_DEG2:
        raise InvalidInput("Zone trop grande : les rues s'affichent au zoom de la rue.")
    params = {"w": w, "s": s, "e": e, "n": n, "limit": STREET_LIMIT}
    features = await session.scalar(_STREETS_SQL, params)
    return {"type": "FeatureCollection", "features": features}


def _is_reserved(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in RESERVED_PREFIXES)


def _static_file(dist: Path, path: str) -> Path | None:
    """The built file at `path`, refusing anything that resolves outside `dist`."""
    candidate = (dist / path.lstrip("/")).resolve()
    if candidate.is_file() and candidate.is_relative_to(dist.resolve()):
        return candidate
    return None


class SpaFallback:
    """ASGI app run when no route matched: a built file, the SPA shell, or the usual 404."""

    def __init__(self, dist: Path, default: ASGIApp, policy: str = STRICT):
        self.dist = dist
        self.default = default
        self.shell_headers = {"Cache-Control": "no-cache", "Content-Security-Policy": policy}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "/")
        method = scope.get("method", "GET")
        if scope["type"] != "http" or method not in ("GET", "HEAD") or _is_reserved(path):
            await self.default(scope, receive, send)
            return
        response = self._response(path)
        if response is None:
            await self.default(scope, receive, send)
            return
        await response(scope, receive, send)

    def _response(self, path: str) -> Response | None:
        index = self.dist / "index.html"
        if not index.is_file():
            return HTMLResponse(_NOT_BUILT, status_code=503)
        found = _static_file(self.dist, path) if path != "/" else None
        if found is not None and found.name != "index.html":
            cache = "public, max-age=31536000, immutable" if _HASHED.match(path) else "no-cache"
            return FileResponse(found, headers={"Cache-Control": cache})
        if "." in path.rsplit("/", 1)[-1]:
            return None  # a missing file (favicon.ico, x.js): a real 404, not the page
        return FileResponse(index, headers=self.shell_headers)


def install_web(app: FastAPI, dist: Path = WEB_DIST) -> None:
    """Add `/api/v1/config` and make unmatched page paths serve the web map."""
    app.include_router(router, prefix="/api/v1")
    settings = getattr(app.state, "settings", None) or Settings()
    policy = web_app_policy(settings)
    app.router.default = SpaFallback(dist, app.router.default, policy)
    if not (dist / "index.html").is_file():
        log.warning("web map not built (%s missing): run `make install`", dist / "index.html")
