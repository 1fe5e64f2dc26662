"""Enqueue notifications in the caller's transaction: nothing is sent inline.

The row commits or rolls back with the change it announces, and `event_key` makes a
repeated call harmless (ON CONFLICT DO NOTHING), so callers may retry freely.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from carto.errors import InvalidInput

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{1,63}$")
MAX_KEY = 200


@dataclass(frozen=True)
class _Row:
    channel: str
    payload: str  # JSON text
    event_key: str
    authority_id: int | None
    recipient: str | None = None  # None: the service's own address (e-mail) or webhook
    service_id: int | None = None


def _json(payload: dict[str, Any]) -> str:
    # Serialized now, so a bad payload fails in the caller, not in the worker.
    return json.dumps(payload, default=str, ensure_ascii=False)


def _check_key(event_key: str) -> None:
    if not event_key or len(event_key) > MAX_KEY:
        raise ValueError(f"event_key must be 1..{MAX_KEY} characters")


def _check_address(to: str) -> str:
    address = to.strip()
    if not _EMAIL.match(address) or len(address) > 320:
        raise InvalidInput("Adresse e-mail invalide.", detail="notify_email: bad address")
    return address


class OutboxBatch:
    """The notifications of one change, queued in one INSERT that also reads the services'
    addresses and webhook URLs, instead of a round trip per notification.

    Rows are checked when added (bad address, bad key or payload raise in the caller);
    nothing is written before `flush`, which runs in the caller's transaction.
    """

    def __init__(self) -> None:
        self._rows: list[_Row] = []

    def email(
        self, *, to: str, subject: str, text: str, event_key: str, authority_id: int | None,
        extra: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        """An e-mail to `to`; `extra`: payload keys for the sender (e.g. `follow`)."""
        _check_key(event_key)
        self._rows.append(
            _Row("email", _json(_email_payload(subject, text) | (extra or {})), event_key,
                 authority_id, recipient=_check_address(to))
        )  # fmt: skip

    def service_email(
        self, *, service_id: int, subject: str, text: str, event_key: str,
        authority_id: int | None,
    ) -> None:  # fmt: skip
        """An e-mail to the service's address (none queued when it has none)."""
        _check_key(event_key)
        self._rows.append(
            _Row("email", _json(_email_payload(subject, text)), event_key, authority_id,
                 service_id=service_id)
        )  # fmt: skip

    def webhook(
        self, *, service_id: int, event: str, payload: dict[str, Any], event_key: str,
        authority_id: int | None,
    ) -> None:  # fmt: skip
        """A signed webhook call to the service (none queued when it has no URL)."""
        _check_key(event_key)
        body = _json({"service_id": service_id, "event": event, "data": payload})
        self._rows.append(_Row("webhook", body, event_key, authority_id, service_id=service_id))

    def columns(self, marks: tuple[str, ...] = ()) -> dict[str, list[Any]]:
        """The queued rows as the arrays OUTBOX_ROWS unnests. With `marks`, each string
        becomes a format() template in which the marks' places take %1$s, %2$s...: the
        intake statement fills them with ids it only learns while inserting. A mark
        standing for a whole JSON string becomes a JSON number there."""
        out: dict[str, list[Any]] = {k: [] for k in OUTBOX_ARRAYS}
        for r in self._rows:
            out["o_channel"].append(r.channel)
            out["o_recipient"].append(_template(r.recipient, marks) if r.recipient else None)
            out["o_payload"].append(_template(r.payload, marks, json_text=True))
            out["o_event_key"].append(_template(r.event_key, marks))
            out["o_authority_id"].append(r.authority_id)
            out["o_service_id"].append(r.service_id)
        return out

    async def flush(self, *, session: AsyncSession) -> int:
        """Write the queued rows (a repeated event key is skipped) in one statement, which
        also looks up the services' addresses; how many were written."""
        if not self._rows:
            return 0
        params, self._rows = self.columns(), []
        conn = await session.connection()
        result = await conn.execute(_FLUSH, params)
        return int(result.rowcount)


OUTBOX_ARRAYS = (
    "o_channel", "o_recipient", "o_payload", "o_event_key", "o_authority_id", "o_service_id"
)  # fmt: skip


def outbox_rows_sql(template_args: str = "", sources: str = "") -> str:
    """INSERT of the rows `OutboxBatch.columns` lays out, as a statement or a CTE body.

    A row for a service (recipient NULL) goes to its address or its webhook, and is
    dropped when the service has none. With `template_args` (SQL expressions, e.g.
    "sig.id, routed.id"), recipient, payload and key are format() templates filled with
    them; `sources` names the relations those expressions read (", sig, routed")."""

    def filled(column: str) -> str:
        return f"format(v.{column}, {template_args})" if template_args else f"v.{column}"

    return f"""INSERT INTO notification_outbox
    (channel, recipient, payload, event_key, authority_id)
SELECT v.channel,
       coalesce({filled("recipient")},
                CASE WHEN v.channel = 'webhook' THEN 'service:' || v.service_id
                     ELSE s.email END),
       {filled("payload")}::jsonb, {filled("event_key")}, v.authority_id
FROM unnest(CAST(:o_channel AS text[]), CAST(:o_recipient AS text[]),
            CAST(:o_payload AS text[]), CAST(:o_event_key AS text[]),
            CAST(:o_authority_id AS int[]), CAST(:o_service_id AS int[]))
     WITH ORDINALITY AS v(channel, recipient, payload, event_key, authority_id, service_id, n)
     LEFT JOIN service s ON s.id = v.service_id{sources}
WHERE v.recipient IS NOT NULL
   OR (v.channel = 'webhook' AND coalesce(s.webhook_url, '') <> '')
   OR (v.channel = 'email' AND coalesce(s.email, '') <> '')
ORDER BY v.n
ON CONFLICT (event_key) DO NOTHING"""


_FLUSH = text(outbox_rows_sql())


def _template(value: str, marks: tuple[str, ...], *, json_text: bool = False) -> str:
    if not marks:
        return value
    value = value.replace("%", "%%")
    for i, mark in enumerate(marks, 1):
        if json_text:
            value = value.replace(f'"{mark}"', f"%{i}$s")
        value = value.replace(mark, f"%{i}$s")
    return value


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
