"""Enqueue notifications in the caller's transaction: nothing is sent inline.

The row commits or rolls back with the change it announces, and `event_key` makes a
repeated call harmless (ON CONFLICT DO NOTHING), so callers may retry freely.
"""

from __future__ import annotations

import json
import logging
import re
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


async def _enqueue(
    session: AsyncSession,
    *,
    channel: str,
    recipient: str,
    payload: dict[str, Any],
    event_key: str,
    authority_id: int | None,
) -> None:
    if not event_key or len(event_key) > MAX_KEY:
        raise ValueError(f"event_key must be 1..{MAX_KEY} characters")
    # Round-trip through JSON now, so a bad payload fails in the caller, not in the worker.
    clean = json.loads(json.dumps(payload, default=str, ensure_ascii=False))
    stmt = (
        insert(OutboxMessage)
        .values(
            channel=channel,
            recipient=recipient,
            payload=clean,
            event_key=event_key,
            authority_id=authority_id,
        )
        .on_conflict_do_nothing(index_elements=["event_key"])
    )
    await session.execute(stmt)


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
    address = to.strip()
    if not _EMAIL.match(address) or len(address) > 320:
        raise InvalidInput("Adresse e-mail invalide.", detail="notify_email: bad address")
    one_line = " ".join(subject.split())[:250]
    await _enqueue(
        session,
        channel="email",
        recipient=address,
        payload={"subject": one_line, "text": text},
        event_key=event_key,
        authority_id=authority_id,
    )


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
    url = (
        await session.execute(select(Service.webhook_url).where(Service.id == service_id))
    ).scalar_one_or_none()
    if not url:
        log.debug("service %s has no webhook; %s not queued", service_id, event_key)
        return
    await _enqueue(
        session,
        channel="webhook",
        recipient=f"service:{service_id}",
        payload={"service_id": service_id, "event": event, "data": payload},
        event_key=event_key,
        authority_id=authority_id,
    )
