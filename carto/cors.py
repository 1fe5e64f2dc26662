"""Cross-origin access: public reads for any site, Open311 writes for listed sites only.

Public reads (Open311 GET, OGC API, tiles and TileJSON, exports, photos) answer
`Access-Control-Allow-Origin: *`, so a map or app on any domain can show them. An
Open311 POST is allowed from the origins of `CARTO_CORS_ORIGINS` only (the answer
names that origin). Preflights (OPTIONS) are answered here.

The web app's cookie session never works cross-origin: no answer carries
`Access-Control-Allow-Credentials` and the CSRF header `X-Requested-With` is never
an allowed header, so another site cannot make a browser send a same-site request
with them. Starlette's CORSMiddleware has one policy for the whole app, hence this
small pure-ASGI middleware: it only compares the path's prefix and, on a cross-origin
request, appends headers (README, "CORS", gives its cost).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from carto.settings import Settings

PUBLIC_READS = ("/open311/", "/ogc", "/tiles/", "/exports/", "/media/")
WRITES = ("/open311/",)
READ_METHODS = frozenset({"GET", "HEAD"})
# Request headers a cross-origin page may send: never X-Requested-With nor Cookie.
READ_HEADERS = frozenset({"accept", "accept-language", "content-language", "if-none-match"})
WRITE_HEADERS = READ_HEADERS | {"content-type", "idempotency-key"}
EXPOSED = b"X-Request-ID, Retry-After, ETag, Link"
MAX_AGE = b"600"


def origins(settings: Settings) -> frozenset[str]:
    """The listed origins, without trailing slashes."""
    return frozenset(o.strip().rstrip("/") for o in settings.cors_origins.split(",") if o.strip())


class Cors:
    """Per-path CORS policy (see the module docstring)."""

    def __init__(self, app: ASGIApp, allowed: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.allowed = allowed

    def _allow(self, path: str, method: str, origin: str) -> bytes | None:
        """The Access-Control-Allow-Origin value for this call, or None (not allowed)."""
        if method in READ_METHODS and path.startswith(PUBLIC_READS):
            return b"*"
        if method == "POST" and path.startswith(WRITES) and origin in self.allowed:
            return origin.encode("latin-1")
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin = next((v for k, v in scope["headers"] if k == b"origin"), None)
        if origin is None:  # same-origin or not a browser: nothing to add
            await self.app(scope, receive, send)
            return
        origin_s = origin.decode("latin-1")
        wanted = next(
            (v for k, v in scope["headers"] if k == b"access-control-request-method"), None
        )
        if scope["method"] == "OPTIONS" and wanted is not None:
            await self._preflight(scope, send, origin_s, wanted.decode("latin-1").upper())
            return
        allow = self._allow(scope["path"], scope["method"], origin_s)
        if allow is None:
            await self.app(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.append("Access-Control-Allow-Origin", allow.decode("latin-1"))
                headers.append("Access-Control-Expose-Headers", EXPOSED.decode())
                if allow != b"*":
                    headers.add_vary_header("Origin")
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _preflight(self, scope: Scope, send: Send, origin: str, method: str) -> None:
        """204 with the allowed method and headers, or 403 without any CORS header."""
        allow = self._allow(scope["path"], method, origin)
        asked = next(
            (v for k, v in scope["headers"] if k == b"access-control-request-headers"), b""
        )
        names = {h.strip().lower() for h in asked.decode("latin-1").split(",") if h.strip()}
        permitted = READ_HEADERS if method in READ_METHODS else WRITE_HEADERS
        if allow is None or not names <= permitted:
            body = (
                b'[{"code":403,"description":"Origine, m\xc3\xa9thode ou en-t\xc3\xaate '
                b'non autoris\xc3\xa9s pour un appel depuis un autre site."}]'
            )
            headers = [(b"content-type", b"application/json"), (b"vary", b"Origin")]
            await _send(send, 403, headers, body)
            return
        headers = [
            (b"access-control-allow-origin", allow),
            (
                b"access-control-allow-methods",
                b"GET, HEAD, OPTIONS" if allow == b"*" else b"POST, OPTIONS",
            ),
            (b"access-control-allow-headers", ", ".join(sorted(permitted)).encode()),
            (b"access-control-max-age", MAX_AGE),
            (b"vary", b"Origin"),
        ]
        await _send(send, 204, headers, b"")


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
