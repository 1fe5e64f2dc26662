"""Browser-facing security headers: a Content-Security-Policy on every HTML answer.

Pages that run scripts say which ones by hash (the synthesis report, the API docs)
or by a per-request nonce (tipg's `/ogc` pages, whose templates inline their
scripts); a route that knows its scripts sets its own policy, and every other HTML
answer gets `STRICT`, which runs no script at all. No policy allows
`'unsafe-inline'` scripts: a stored text that slips into a page stays inert.

The middleware only reads the response's header list and, for HTML, adds one
header: the tile and intake paths pay a few hundred nanoseconds (README, "Headers").
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from carto.settings import Settings

# Sent on every answer: no MIME sniffing of JSON, tiles or uploaded photos into HTML,
# and no full URL (which may carry a reset token in its fragment's page) to other sites.
ALWAYS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
)
_CSP = "content-security-policy"
_CSP_RAW = _CSP.encode()

# Static HTML (account pages, error pages): no script, no plugin, no framing.
STRICT = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"
)

_SCRIPT = re.compile(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", re.S | re.I)


def sha256_source(script: str) -> str:
    """A CSP hash source for an inline script's exact text."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def inline_script_hashes(page: str) -> list[str]:
    """Hash sources of the inline scripts of a page *we* generated from static inputs
    (never a page that holds stored text: that would allow what was injected)."""
    return [
        sha256_source(m["body"])
        for m in _SCRIPT.finditer(page)
        if "src=" not in m["attrs"] and "application/json" not in m["attrs"]
    ]


def _origin(url: str | None) -> str:
    if not url:
        return ""
    parts = urlsplit(url)
    host = re.sub(r"\{[^}]*\}", "*", parts.netloc)  # {s}.tile.example.org: any subdomain
    return f"{parts.scheme}://{host}" if parts.scheme in ("http", "https") else ""


def web_app_policy(settings: Settings) -> str:
    """The single-page app: its own bundle only; MapLibre's workers come from blob: URLs
    and its tiles, glyphs and sprites from this origin or the chosen base map's
    (`CARTO_BASEMAP`: exactly that third party's origin, none for Carto's own base)."""
    origins = [_origin(u) for u in (settings.basemap_choice.url,) if u]
    remote = "".join(f" {o}" for o in origins if o)
    return (
        "default-src 'self'; script-src 'self'; worker-src 'self' blob:; child-src 'self' blob:; "
        f"style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:{remote}; "
        f"connect-src 'self'{remote}; font-src 'self'; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


def docs_policy(script_hashes: list[str]) -> str:
    """Swagger UI pages: FastAPI's inline bootstrap script (by hash) and its CDN bundle."""
    cdn = "https://cdn.jsdelivr.net"
    return (
        f"default-src 'none'; script-src {' '.join(script_hashes)} {cdn}; "
        f"style-src 'unsafe-inline' {cdn}; img-src 'self' data: https://fastapi.tiangolo.com; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "
        "object-src 'none'"
    )


def ogc_policy(nonce: str) -> str:
    """tipg's pages: their scripts carry this request's nonce, and Bootstrap, jQuery and
    Leaflet come from `/ogc/static` (carto.layers.ogc): no third-party script or style."""
    return (
        f"default-src 'none'; script-src 'nonce-{nonce}'; worker-src blob:; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data: "
        "https://tile.openstreetmap.org https://*.tile.openstreetmap.org; connect-src 'self'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"
    )


class SecurityHeaders:
    """ASGI middleware: `ALWAYS` on every answer; a CSP on HTML answers lacking one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = ""
        if scope["path"].startswith("/ogc"):
            nonce = secrets.token_urlsafe(18)
            scope.setdefault("state", {})["csp_nonce"] = nonce

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # a new list: a Response may hand the same header list to every request
                raw: list[tuple[bytes, bytes]] = [*message.get("headers", ()), *ALWAYS]
                message["headers"] = raw
                html = any(k == b"content-type" and v.startswith(b"text/html") for k, v in raw)
                if html and not any(k == _CSP_RAW for k, _ in raw):
                    policy = ogc_policy(nonce) if nonce else STRICT
                    MutableHeaders(raw=raw).append(_CSP, policy)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install_docs(app: FastAPI, docs_url: str = "/docs") -> None:
    """Swagger UI at `docs_url` (FastAPI's page) with a policy naming its inline scripts
    by hash. The page is rendered from the app's configuration only (title, URLs, mount
    point), never from request data, so hashing what it renders allows nothing foreign.
    Build the app with `docs_url=None, redoc_url=None` (ReDoc is not offered)."""
    redirect_url = docs_url + "/oauth2-redirect"

    def _with_policy(page: HTMLResponse) -> HTMLResponse:
        hashes = inline_script_hashes(bytes(page.body).decode())
        page.headers[_CSP] = docs_policy(hashes)
        return page

    async def swagger(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return _with_policy(
            get_swagger_ui_html(
                openapi_url=root + str(app.openapi_url),
                title=f"{app.title} - Swagger UI",
                oauth2_redirect_url=root + redirect_url,
                init_oauth=app.swagger_ui_init_oauth,
                swagger_ui_parameters=app.swagger_ui_parameters,
            )
        )

    async def oauth2_redirect() -> HTMLResponse:
        return _with_policy(get_swagger_ui_oauth2_redirect_html())

    app.add_api_route(docs_url, swagger, include_in_schema=False)
    app.add_api_route(redirect_url, oauth2_redirect, include_in_schema=False)
