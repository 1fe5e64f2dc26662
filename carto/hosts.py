"""Where the service lives: the public URL of e-mailed links and the Host names it answers.

Links in e-mails (sign-up confirmation, password reset, notifications) are built
from `CARTO_PUBLIC_URL`, never from the request: a forged Host header would
otherwise send a reset token to the attacker's site. Without it, only a server
bound to a loopback address may run (its URL is derived from its host and port).
Requests naming any other Host get 400 before any route runs.
"""

from __future__ import annotations

import ipaddress
import json
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from carto.errors import CartoError
from carto.settings import Settings

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


class PublicUrlMissing(CartoError):
    """Served on a non-loopback address without CARTO_PUBLIC_URL."""

    status_code = 500
    code = "configuration"


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def public_url(settings: Settings) -> str:
    """CARTO_PUBLIC_URL, or http://host:port when bound to loopback; else PublicUrlMissing."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    if is_loopback(settings.host):
        host = f"[{settings.host}]" if ":" in settings.host else settings.host
        return f"http://{host}:{settings.port}"
    raise PublicUrlMissing(
        f"CARTO_PUBLIC_URL est requis pour servir sur {settings.host} (adresse non locale) : "
        "c'est l'adresse des liens envoyés par e-mail, par exemple https://carto.example.fr."
    )


def allowed_hosts(settings: Settings) -> frozenset[str]:
    """CARTO_ALLOWED_HOSTS (comma-separated), else the public URL's host, plus the loopback
    names when the server is bound to loopback."""
    names = {h.strip().lower() for h in settings.allowed_hosts.split(",") if h.strip()}
    if not names:
        names.add((urlsplit(public_url(settings)).hostname or "").lower())
    if is_loopback(settings.host):
        names.update(LOOPBACK_NAMES)
    return frozenset(n.strip("[]") for n in names if n)


def host_of(header: bytes) -> str:
    """The name in a Host header, without port or IPv6 brackets, lower-cased."""
    value = header.decode("latin-1").strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


_REFUSAL = json.dumps(
    {"error": "bad_host", "message": "Nom d'hôte non reconnu par ce service (en-tête Host)."},
    ensure_ascii=False,
).encode()


class AllowedHosts:
    """ASGI middleware: 400 for a Host header outside the allowed names (or none at all).

    Pure ASGI, one set lookup per request (measured in tests/security/test_host.py)."""

    def __init__(self, app: ASGIApp, hosts: frozenset[str]) -> None:
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        header = next((v for k, v in scope["headers"] if k == b"host"), b"")
        if host_of(header) in self.hosts:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await send(
            {
                "type": "http.response.start",
                "status": 400,
                "headers": [
                    (b"content-type", b"application/json; charset=utf-8"),
                    (b"content-length", str(len(_REFUSAL)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": _REFUSAL})
