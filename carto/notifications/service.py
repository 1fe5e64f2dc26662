"""Enqueue notifications in the caller's transaction: nothing is sent inline.

The row commits or rolls back with the change it announces, and `event_key` makes a
repeated call harmless (ON CONFLICT DO NOTHING), so callers may retry freely.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from carto.errors import InvalidInput
from carto.notifications.models import OutboxMessage
from carto.routing.models import Service

log = logging.getLogger("carto.notifications")

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{1,63}$")
MAX_KEY = 200
_INSERT = insert(OutboxMessage).on_conflict_do_nothing(index_elements=["event_key"])


@dataclass(frozen=True)
class _Row:
    channel: str
    payload: dict[str, Any]
    event_key: str
    authority_id: int | None
    recipient: str | None = None  # None: the service's own address (e-mail) or webhook
    service_id: int | None = None


def _clean(payload: dict[str, Any]) -> dict[str, Any]:
    # Round-trip through JSON now, so a bad payload fails in the caller, not in the worker.
    return json.loads(json.dumps(payload, default=str, ensure_ascii=False))  # type: ignore[no-any-return]


def _check_key(event_key: str) -> None:
    if not event_key or len(event_key) > MAX_KEY:
        raise ValueError(f"event_key must be 1..{MAX_KEY} characters")


def _check_address(to: str) -> str:
    address = to.strip()
    if not _EMAIL.match(address) or len(address) > 320:
        raise InvalidInput("Adresse e-mail invalide.", detail="notify_email: bad address")
    return address


class OutboxBatch:
    """The notifications of one change, queued in one INSERT after at most one SELECT (the
    services' addresses and webhook URLs), instead of a round trip per notification.

    Rows are checked when added (bad address, bad key or payload raise in the caller);
    nothing is written before `flush`, which runs in the caller's transaction.
    """

    def __init__(self) -> None:
        self._rows: list[_Row] = []

    def email(
        self, *, to: str, subject: str, text: str, event_key: str, authority_id: int | None
    ) -> None:
        """An e-mail to `to`."""
        _check_key(event_key)
        self._rows.append(
            _Row("email", _email_payload(subject, text), event_key, authority_id,
                 recipient=_check_address(to))
        )  # fmt: skip

    def service_email(
        self, *, service_id: int, subject: str, text: str, event_key: str,
        authority_id: int | None,
    ) -> None:  # fmt: skip
        """An e-mail to the service's address (none queued when it has none)."""
        _check_key(event_key)
        self._rows.append(
            _Row("email", _email_payload(subject, text), event_key, authority_id,
                 service_id=service_id)
        )  # fmt: skip

    def webhook(
        self, *, service_id: int, event: str, payload: dict[str, Any], event_key: str,
        authority_id: int | None,
    ) -> None:  # fmt: skip
        """A signed webhook call to the service (none queued when it has no URL)."""
        _check_key(event_key)
        body = _clean({"service_id": service_id, "event": event, "data": payload})
        self._rows.append(_Row("webhook", body, event_key, authority_id, service_id=service_id))

    async def flush(self, *, session: AsyncSession) -> int:
        """Write the queued rows (a repeated event key is skipped); how many were kept."""
        rows, self._rows = self._rows, []
        wanted = {r.service_id for r in rows if r.service_id is not None}
        services: dict[int, tuple[str | None, str | None]] = {}
        if wanted:
            found = await session.execute(
                select(Service.id, Service.email, Service.webhook_url).where(
                    Service.id.in_(sorted(wanted))
                )
            )
            services = {sid: (email, url) for sid, email, url in found}
        values = []
        for r in rows:
            recipient = r.recipient
            if recipient is None and r.service_id is not None:
                email, url = services.get(r.service_id, (None, None))
                target = url if r.channel == "webhook" else email
                if not target:
                    log.debug("service %s: no %s; %s not queued", r.service_id, r.channel,
                              r.event_key)  # fmt: skip
                    continue
                recipient = f"service:{r.service_id}" if r.channel == "webhook" else target
            values.append(
                {"channel": r.channel, "recipient": recipient, "payload": r.payload,
                 "event_key": r.event_key, "authority_id": r.authority_id}
            )  # fmt: skip
        if values:
            # executemany of one cacheable statement (a multi-row VALUES has no cache key
            # and was compiled anew for every report)
            await session.execute(_INSERT, values)
        return len(values)


def _email_payload(subject: str, text: str) -> dict[str, Any]:
    return {"subject": " ".join(subject.split())[:250], "text": text}


async def notify_email(
    *,
    session: AsyncSession,
    to: str,
    subject: str,
    text: str,
    event_key: str,
    authority_id: int | None,
) -> None:
    """Queue an e-mail to `to`; delivered after the caller commits, at least once."""
    batch = OutboxBatch()
    batch.email(to=to, subject=subject, text=text, event_key=event_key, authority_id=authority_id)
    await batch.flush(session=session)


async def notify_webhook(
    *,
    session: AsyncSession,
    service_id: int,
    event: str,
    payload: dict[str, Any],
    event_key: str,
    authority_id: int | None,
) -> None:
    """Queue a signed webhook call to the service; a no-op when it has no webhook URL.

    The URL and secret are read at delivery time, so a rotated secret applies to
    notifications still in the queue.
    """
    batch = OutboxBatch()
    batch.webhook(service_id=service_id, event=event, payload=payload, event_key=event_key,
                  authority_id=authority_id)  # fmt: skip
    await batch.flush(session=session)
