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
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from carto.accounts.deps import Principal, require_role
from carto.deps import SessionDep
from carto.geo import parse_bbox
from carto.routing.streets import street_features
from carto.security_headers import STRICT, web_app_policy
from carto.settings import Settings
from carto.territories import service as territories_service
from carto.tiles.glyphs import router as glyphs_router

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
    """An external base map: an XYZ raster template or a MapLibre style URL; `fallback`:
    draw Carto's own base instead (with a notice) when it cannot be reached in time."""

    kind: Literal["raster", "style"]
    url: str
    attribution: str | None = None
    fallback: bool = False


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
    """`CARTO_BASEMAP` (carto.basemap) as the web map reads it; None: Carto's own base."""
    choice = settings.basemap_choice
    if choice.url is None or choice.kind is None:
        return None
    return Basemap(
        kind=choice.kind, url=choice.url, attribution=choice.attribution, fallback=choice.fallback
    )


@router.get("/config", response_model=WebConfig)
async def web_config(request: Request, session: SessionDep) -> WebConfig:
    """Base map and the territories' extents: read once by the web map when it starts."""
    extents = await territories_service.intercommunality_extents(session=session)
    territories = [TerritoryExtent(name=name, bbox=box) for name, box in extents]
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
    found = await territories_service.authorities_by_id(
        session=session, ids=principal.admin_authority_ids
    )
    return [AuthorityRef(**a._asdict()) for a in found]


@router.get("/streets")
async def streets(
    session: SessionDep, bbox: Annotated[str, Query(max_length=200)]
) -> dict[str, object]:
    """Street lines inside `bbox` (west,south,east,north) as GeoJSON; the web map draws
    them at street zoom when no external base map is configured."""
    features = await street_features(session=session, bbox=parse_bbox(bbox))
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
    app.include_router(glyphs_router)  # street-name glyphs of the offline base map
    settings = getattr(app.state, "settings", None) or Settings()
    policy = web_app_policy(settings)
    app.router.default = SpaFallback(dist, app.router.default, policy)
    if not (dist / "index.html").is_file():
        log.warning("web map not built (%s missing): run `make install`", dist / "index.html")
