"""Which database answers a read: the replica, unless the caller must read their own writes.

The rule, in order:

1. no replica configured, or the replica is unreachable or further behind than
   `CARTO_READ_MAX_LAG_S` (see `carto.scaling.replica.ReplicaMonitor`): the primary;
2. a request with an `Authorization` header (a signed-in citizen, an agent, an
   administrator): the primary, so that whoever acts sees what they did at once;
3. a request carrying a fresh `carto_primary` cookie: the primary. Any successful
   write (POST, PUT, PATCH, DELETE) answers with that cookie, valid for the longest
   time the replica may lag (max lag + one check interval + 1 s), so an anonymous
   citizen who just filed a report sees it on its page and on the map;
4. otherwise the replica.

The cookie carries no identity (only an expiry time), so it is no CSRF surface.
"""

from __future__ import annotations

import math
import time
from typing import Any

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from carto.parsing import parse_id

PRIMARY_COOKIE = "carto_primary"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def wants_primary(conn: HTTPConnection) -> bool:
    """Rules 2 and 3: the caller must read their own writes."""
    if "authorization" in conn.headers:
        return True
    until = conn.cookies.get(PRIMARY_COOKIE, "")
    deadline = parse_id(until)
    return deadline is not None and deadline >= time.time()


def reads_from_replica(conn: HTTPConnection) -> bool:
    """True when this request's reads may go to the replica (rules 1 to 4)."""
    monitor: Any = getattr(conn.app.state, "replica", None)
    return monitor is not None and monitor.usable and not wants_primary(conn)


class ReadYourWrites:
    """ASGI middleware: successful writes answer with the `carto_primary` cookie."""

    def __init__(self, app: ASGIApp, *, window_s: float) -> None:
        self.app = app
        self.window_s = window_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                until = math.ceil(time.time() + self.window_s)
                cookie = (
                    f"{PRIMARY_COOKIE}={until}; Max-Age={math.ceil(self.window_s)}; Path=/; "
                    "HttpOnly; SameSite=Lax"
                )
                headers = [*message.get("headers", []), (b"set-cookie", cookie.encode())]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cookie)
