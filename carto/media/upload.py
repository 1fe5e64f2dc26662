"""Size limits enforced while reading, not after: per request body and per uploaded file.

`BodySizeLimit` (ASGI middleware) refuses a request whose declared Content-Length is
too big before reading any of it, and stops a streamed body as soon as it passes the
limit, so a huge upload is never read in full. `read_upload` then reads one file
part in chunks and stops at its own limit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from starlette.datastructures import UploadFile
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from carto.errors import TooLarge

CHUNK = 64 * 1024


def _too_large_message(max_bytes: int) -> str:
    size = f"{max_bytes / (1024 * 1024):.0f} Mo" if max_bytes >= 1024 * 1024 else f"{max_bytes} o"
    return f"Envoi trop volumineux : au plus {size}."


async def read_upload(upload: UploadFile, *, max_bytes: int) -> bytes:
    """The bytes of an uploaded file, read in chunks; TooLarge as soon as it passes max_bytes."""
    parts: list[bytes] = []
    total = 0
    while chunk := await upload.read(CHUNK):
        total += len(chunk)
        if total > max_bytes:
            raise TooLarge(_too_large_message(max_bytes), detail=f"upload over {max_bytes} bytes")
        parts.append(chunk)
    return b"".join(parts)


ErrorShape = Callable[[str, str], tuple[bytes, bytes]]


class BodyTooLarge(Exception):
    """Raised inside `receive` when a streamed body passes the limit."""


class BodySizeLimit:
    """ASGI middleware: 413 (JSON, French) for any request body above its limit.

    `overrides` maps path regexes (full match) to their own limit, for the few routes
    that take bigger files (reference layers). `shapes` maps path prefixes to the error
    body of an interface with its own error format (Open311): `(path, message) ->
    (content type, body)`.
    """

    def __init__(
        self, app: ASGIApp, max_bytes: int, overrides: Mapping[str, int] | None = None,
        shapes: Mapping[str, ErrorShape] | None = None,
    ) -> None:  # fmt: skip
        self.app = app
        self.max_bytes = max_bytes
        self.overrides = [(re.compile(k), v) for k, v in (overrides or {}).items()]
        self.shapes = dict(shapes or {})

    def limit_for(self, path: str) -> int:
        return next((v for rx, v in self.overrides if rx.fullmatch(path)), self.max_bytes)

    async def _refuse(self, send: Send, limit: int, path: str = "") -> None:
        shape = next((f for prefix, f in self.shapes.items() if path.startswith(prefix)), None)
        kind, body = b"application/json", b""
        if shape is not None:
            kind, body = shape(path, _too_large_message(limit))
        else:
            body = json.dumps(
                {"error": "too_large", "message": _too_large_message(limit)},
                ensure_ascii=False,
            ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", kind),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(send, limit, scope.get("path", ""))
            return
        state: dict[str, Any] = {"received": 0, "exceeded": False, "started": False}

        async def limited_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > limit:
                    state["exceeded"] = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            if state["exceeded"]:
                return  # whatever the app makes of the aborted body, the answer is ours
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not state["exceeded"]:
                raise
        if state["exceeded"] and not state["started"]:
            await self._refuse(send, limit, scope.get("path", ""))
