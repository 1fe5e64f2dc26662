"""Real delivery targets for the outbox: a local SMTP server and a webhook receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from carto.db import make_sessionmaker
from carto.embedded import free_port
from carto.settings import Settings

REFUSED = "refuse@exemple.test"


@pytest.fixture(scope="session")
def settings(settings: Settings) -> Settings:
    """The run's settings, with webhooks allowed to reach the receiver on loopback."""
    return settings.model_copy(update={"webhook_allow_private_networks": True})


class Inbox:
    """aiosmtpd handler keeping every message; refuses one address with a 550."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802, ANN001, ANN201
        if address == REFUSED:
            return "550 5.1.1 Utilisateur inconnu"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802, ANN001, ANN201
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@dataclass
class Receiver:
    """What the webhook receiver saw; `fail_first` requests answer 500."""

    secret: str
    fail_first: int = 0
    calls: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            expected = (
                "sha256=" + hmac.new(receiver.secret.encode(), body, hashlib.sha256).hexdigest()
            )
            valid = hmac.compare_digest(expected, self.headers.get("X-Carto-Signature", ""))
            with receiver.lock:
                receiver.calls.append(
                    {
                        "valid": valid,
                        "headers": dict(self.headers),
                        "body": json.loads(body),
                    }
                )
                failing = len(receiver.calls) <= receiver.fail_first
            status = 401 if not valid else 500 if failing else 204
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(secret=secrets.token_hex(16))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/carto"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
async def outbox(async_engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """Committed outbox rows are this test's only ones (workers claim every due row)."""
    async with async_engine.begin() as conn:
        await conn.execute(text("DELETE FROM notification_outbox"))
    yield async_engine
    async with async_engine.begin() as conn:
        await conn.execute(text("DELETE FROM notification_outbox"))


@pytest.fixture
async def committing_session(outbox: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session whose commits are real, as in production (the worker reads committed rows)."""
    async with make_sessionmaker(outbox)() as session:
        yield session


@pytest.fixture
async def webhook_service(async_engine: AsyncEngine, receiver: Receiver) -> AsyncIterator[int]:
    """A service of a demo authority whose webhook points at the local receiver."""
    async with async_engine.begin() as conn:
        service_id = (
            await conn.execute(
                text(
                    "INSERT INTO service (authority_id, slug, name, webhook_url, webhook_secret) "
                    "SELECT min(id), :slug, 'Service de test', :url, :secret FROM authority "
                    "RETURNING id"
                ),
                {
                    "slug": f"test-{secrets.token_hex(4)}",
                    "url": receiver.url,
                    "secret": receiver.secret,
                },
            )
        ).scalar_one()
    yield int(service_id)
    async with async_engine.begin() as conn:
        await conn.execute(text("DELETE FROM notification_outbox"))
        await conn.execute(text("DELETE FROM service WHERE id = :id"), {"id": service_id})


@pytest.fixture
def smtp_settings(settings: Settings, smtp: tuple[Inbox, int]) -> Settings:
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp[1],
            "smtp_starttls": False,
            "smtp_from": "Carto <ne-pas-repondre@carto.example>",
            "notifications_backoff_s": 0.0,
        }
    )
