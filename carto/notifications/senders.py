"""Senders, one per channel, behind a registry keyed by the outbox row's `channel`.

Each sender delivers one message or raises DeliveryError (`permanent` when retrying
cannot help). The event key travels with every delivery (e-mail Message-ID, webhook
X-Carto-Delivery) so that receivers can drop the rare duplicate of at-least-once.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import logging
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from carto.credentials import secret_key
from carto.notifications import follow_link
from carto.registry import Registry
from carto.routing.models import Service
from carto.settings import Settings

log = logging.getLogger("carto.notifications")


class DeliveryError(Exception):
    """A delivery failed; `permanent` ones go straight to `dead`."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Delivery:
    """A claimed outbox row, as the senders see it."""

    id: int
    channel: str
    recipient: str
    payload: dict[str, Any]
    event_key: str
    attempts: int
    created_at: datetime


class Sender(Protocol):
    async def send(self, delivery: Delivery) -> None: ...


def message_id(event_key: str, sender_address: str) -> str:
    """A stable Message-ID per event: the same notification always carries the same id."""
    domain = parseaddr(sender_address)[1].rpartition("@")[2] or "carto.local"
    return f"<{hashlib.sha256(event_key.encode()).hexdigest()[:40]}@{domain}>"


def build_email(delivery: Delivery, sender_address: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender_address
    msg["To"] = delivery.recipient
    msg["Subject"] = str(delivery.payload.get("subject", ""))
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = message_id(delivery.event_key, sender_address)
    msg["X-Carto-Delivery"] = delivery.event_key
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(str(delivery.payload.get("text", "")))
    return msg


class SmtpEmailSender:
    """E-mail through the configured SMTP server (smtplib, in a thread)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.secret = secret_key(settings)  # signs follow links (follow_link.py)

    def _send_sync(self, msg: EmailMessage) -> None:
        s = self.settings
        assert s.smtp_host is not None
        smtp_cls = smtplib.SMTP_SSL if s.smtp_port == 465 else smtplib.SMTP
        with smtp_cls(s.smtp_host, s.smtp_port, timeout=30) as smtp:
            if s.smtp_starttls and smtp_cls is smtplib.SMTP:
                smtp.starttls(context=ssl.create_default_context())
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password or "")
            smtp.send_message(msg)

    async def send(self, delivery: Delivery) -> None:
        lifetime = timedelta(days=self.settings.follow_link_days)
        expanded = follow_link.expand(delivery.payload, self.secret, lifetime=lifetime)
        delivery = replace(delivery, payload=expanded)
        msg = build_email(delivery, self.settings.smtp_from)
        try:
            await asyncio.to_thread(self._send_sync, msg)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError("destinataire refusé par le serveur SMTP", permanent=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP : {type(exc).__name__}: {exc}") from exc


class LogEmailSender:
    """No SMTP configured (the demo): the e-mail is written to the log, not sent."""

    async def send(self, delivery: Delivery) -> None:
        log.info(
            "e-mail non envoyé (CARTO_SMTP_HOST non défini), journalisé seulement : %s — « %s »",
            delivery.event_key,
            delivery.payload.get("subject", ""),
        )


def sign(body: bytes, secret: str) -> str:
    """The X-Carto-Signature value: sha256=<hex HMAC-SHA256 of the exact body>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def is_public_address(address: str) -> bool:
    """False for loopback, private, link-local (cloud metadata), multicast and reserved."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def check_public_target(url: str) -> None:
    """Refuse a webhook whose host resolves to an address of the server's own networks.

    An authority's administrator sets the URL: without this, they could make the worker
    POST to the database port, a cloud metadata service or an intranet (SSRF). Every
    resolved address must be public. (httpx resolves again when it connects; a DNS
    answer that changes in between is the residual risk, bounded by `follow_redirects`
    being off.)"""
    host = urlsplit(url).hostname
    if not host:
        raise DeliveryError("webhook : URL sans hôte", permanent=True)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None)
    except OSError as exc:
        raise DeliveryError(f"webhook : hôte introuvable ({type(exc).__name__})") from exc
    if not infos or not all(is_public_address(str(info[4][0])) for info in infos):
        raise DeliveryError(
            "webhook : adresse interne refusée (CARTO_WEBHOOK_ALLOW_PRIVATE_NETWORKS)",
            permanent=True,
        )


class WebhookSender:
    """JSON POST to the service's webhook URL, signed with its secret (read at send time)."""

    def __init__(
        self, engine: AsyncEngine, timeout_s: float = 10.0, *, allow_private: bool = False
    ) -> None:
        self.engine = engine
        self.timeout_s = timeout_s
        self.allow_private = allow_private

    async def _target(self, service_id: int) -> tuple[str, str]:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(Service.webhook_url, Service.webhook_secret).where(
                        Service.id == service_id
                    )
                )
            ).one_or_none()
        if row is None or not row[0]:
            raise DeliveryError("service sans webhook", permanent=True)
        if not row[1]:
            raise DeliveryError("service sans secret de webhook", permanent=True)
        return row[0], row[1]

    async def send(self, delivery: Delivery) -> None:
        url, secret = await self._target(int(delivery.payload["service_id"]))
        if not self.allow_private:
            await check_public_target(url)
        event = str(delivery.payload.get("event", ""))
        document = {
            "event": event,
            "delivery": delivery.event_key,
            "created_at": delivery.created_at.isoformat(),
            "data": delivery.payload.get("data", {}),
        }
        body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Carto-Webhook/1",
            "X-Carto-Event": event,
            "X-Carto-Delivery": delivery.event_key,
            "X-Carto-Signature": sign(body, secret),
        }
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s, follow_redirects=False) as http:
                resp = await http.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook : {type(exc).__name__}") from exc
        if resp.status_code == 410:
            raise DeliveryError("webhook : 410 Gone", permanent=True)
        if not 200 <= resp.status_code < 300:
            raise DeliveryError(f"webhook : HTTP {resp.status_code}")


SenderFactory = Callable[[Settings, AsyncEngine], Sender]

SENDERS: Registry[SenderFactory] = Registry("canal d'envoi")
"""Channel -> how to build its sender; filled by carto.wiring (email, webhook)."""


def email_sender(settings: Settings, engine: AsyncEngine) -> Sender:
    """SMTP when CARTO_SMTP_HOST is set, else a sender that only logs."""
    if settings.smtp_host:
        return SmtpEmailSender(settings)
    log.warning("CARTO_SMTP_HOST non défini : les e-mails sont seulement journalisés, pas envoyés.")
    return LogEmailSender()


def webhook_sender(settings: Settings, engine: AsyncEngine) -> Sender:
    return WebhookSender(
        engine, settings.webhook_timeout_s, allow_private=settings.webhook_allow_private_networks
    )


def build_senders(settings: Settings, engine: AsyncEngine) -> dict[str, Sender]:
    """One sender per registered channel, built from the settings."""
    return {channel: factory(settings, engine) for channel, factory in SENDERS.items()}
