"""A request id on every answer, in every log record of the request, and in 5xx bodies.

A client (or a proxy) may send a sane `X-Request-ID`; otherwise one is made. It lets
a user quote the id of a failure whose details stay in the log: database error text
never goes to the client. Pure ASGI, wrapped outside Starlette's error middleware so
that unhandled 500s carry the id too; on a 2xx it costs a context variable and one
header.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from contextvars import ContextVar
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = b"x-request-id"
_SANE = re.compile(rb"[A-Za-z0-9._:-]{8,64}")
_current: ContextVar[str | None] = ContextVar("carto_request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being answered (None outside a request)."""
    return _current.get()


def with_request_id(body: dict[str, Any]) -> dict[str, Any]:
    """`body` plus the current request id, for generic error answers."""
    rid = _current.get()
    return {**body, "request_id": rid} if rid else body


def _incoming(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == HEADER:
            return value.decode("ascii") if _SANE.fullmatch(value) else None
    return None


class RequestIdMiddleware:
    """Sets the id for the request's task, answers it as `X-Request-ID`, adds it to 5xx
    JSON bodies (whoever made them: our handlers, tipg's, Starlette's)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _incoming(scope) or secrets.token_hex(8)
        header = (HEADER, rid.encode("ascii"))
        held: list[Message] = []

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), header]
                if message["status"] >= 500:
                    held.append(message)
                    return
            elif held:
                held.append(message)
                if message.get("more_body"):
                    return
                for out in _stamped(held, rid):
                    await send(out)
                held.clear()
                return
            await send(message)

        token = _current.set(rid)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _current.reset(token)


def _stamped(messages: list[Message], rid: str) -> list[Message]:
    """A held 5xx answer, with `request_id` added when its body is a JSON object."""
    start, parts = messages[0], messages[1:]
    headers = dict(start["headers"])
    if b"json" not in headers.get(b"content-type", b""):
        return messages
    try:
        body = json.loads(b"".join(p.get("body", b"") for p in parts))
    except ValueError:
        return messages
    if not isinstance(body, dict):
        return messages
    data = json.dumps({**body, "request_id": rid}, ensure_ascii=False).encode()
    start["headers"] = [
        (k, str(len(data)).encode() if k == b"content-length" else v) for k, v in start["headers"]
    ]
    return [start, {"type": "http.response.body", "body": data, "more_body": False}]


_installed = False


def stamp_log_records() -> None:
    """Every log record made during a request carries `request_id` (idempotent)."""
    global _installed
    if _installed:
        return
    make = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        record.request_id = _current.get()
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
