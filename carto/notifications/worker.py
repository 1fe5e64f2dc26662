"""The outbox worker: claim due rows, send them, record the outcome.

Claiming is one short transaction (`FOR UPDATE SKIP LOCKED`, so two workers never
take the same row) that moves rows to `sending` with a lease: `next_attempt_at`
becomes the lease's expiry. Sending happens outside any transaction. A worker that
dies mid-send leaves rows in `sending`; once the lease expires any worker claims
them again, so nothing is lost (at least once; the event key lets receivers dedupe).
Outcomes are written only by the holder of the claim (`claim_token`).
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Mapping

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from carto.metrics import OUTBOX_DELIVERIES, OUTBOX_FAILURES
from carto.notifications.senders import Delivery, DeliveryError, Sender

log = logging.getLogger("carto.notifications")

MAX_BACKOFF_S = 6 * 3600

_CLAIM = text(
    """
    UPDATE notification_outbox o
    SET status = 'sending', attempts = o.attempts + 1, claim_token = :token,
        next_attempt_at = now() + make_interval(secs => :lease)
    WHERE o.id IN (
        SELECT id FROM notification_outbox
        WHERE status IN ('pending', 'failed', 'sending')
          AND next_attempt_at <= now() AND attempts < :max
        ORDER BY next_attempt_at, id
        LIMIT :batch
        FOR UPDATE SKIP LOCKED)
    RETURNING o.id, o.channel, o.recipient, o.payload, o.event_key, o.attempts, o.created_at
    """
)
# A lease that expired after the last allowed attempt: give up on it.
_BURY = text(
    """
    UPDATE notification_outbox
    SET status = 'dead', claim_token = NULL,
        last_error = coalesce(last_error || ' ; ', '') || 'bail expiré au dernier essai'
    WHERE status = 'sending' AND next_attempt_at <= now() AND attempts >= :max
    """
)
_SENT = text(
    """
    UPDATE notification_outbox
    SET status = 'sent', sent_at = now(), claim_token = NULL, last_error = NULL
    WHERE id = :id AND claim_token = :token
    """
)
_FAILED = text(
    """
    UPDATE notification_outbox
    SET status = CASE WHEN :permanent OR attempts >= :max THEN 'dead' ELSE 'failed' END,
        next_attempt_at = now() + make_interval(secs => :delay),
        claim_token = NULL, last_error = :error
    WHERE id = :id AND claim_token = :token
    """
)

# Before each send: extend our lease, or learn that another worker took the row over.
_RENEW = text(
    """
    UPDATE notification_outbox SET next_attempt_at = now() + make_interval(secs => :lease)
    WHERE id = :id AND claim_token = :token AND status = 'sending'
    """
)


class OutboxWorker:
    """Delivers outbox rows through `senders` (channel -> Sender)."""

    def __init__(
        self,
        engine: AsyncEngine,
        senders: Mapping[str, Sender],
        *,
        max_attempts: int = 8,
        backoff_s: float = 30.0,
        lease_s: float = 120.0,
        batch: int = 20,
    ) -> None:
        self.engine = engine
        self.senders = senders
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.lease_s = lease_s
        self.batch = batch

    def backoff(self, attempts: int) -> float:
        """Exponential with jitter: backoff_s, 2x, 4x... capped at six hours."""
        base = min(MAX_BACKOFF_S, self.backoff_s * 2 ** max(0, attempts - 1))
        return base * random.uniform(0.8, 1.2)

    async def claim(self) -> tuple[str, list[Delivery]]:
        """Take up to `batch` due rows under a fresh claim token (committed at once)."""
        token = uuid.uuid4().hex
        params = {"token": token, "lease": self.lease_s, "max": self.max_attempts}
        async with self.engine.begin() as conn:
            await conn.execute(_BURY, {"max": self.max_attempts})
            rows = (await conn.execute(_CLAIM, {**params, "batch": self.batch})).all()
        return token, [Delivery(*row) for row in rows]

    async def deliver(self, token: str, delivery: Delivery) -> bool:
        """Send one claimed row and record the outcome; True when sent."""
        async with self.engine.begin() as conn:
            renewed = await conn.execute(
                _RENEW, {"id": delivery.id, "token": token, "lease": self.lease_s}
            )
        if getattr(renewed, "rowcount", 1) == 0:
            return False  # our lease expired and another worker holds the row now
        sender = self.senders.get(delivery.channel)
        try:
            if sender is None:
                raise DeliveryError(f"aucun expéditeur pour {delivery.channel}", permanent=True)
            await sender.send(delivery)
        except Exception as exc:
            permanent = isinstance(exc, DeliveryError) and exc.permanent
            error = str(exc) if isinstance(exc, DeliveryError) else f"{type(exc).__name__}: {exc}"
            OUTBOX_FAILURES.labels(delivery.channel, str(permanent).lower()).inc()
            log.warning(
                "notification %s: échec (essai %s) : %s", delivery.id, delivery.attempts, error
            )
            async with self.engine.begin() as conn:
                await conn.execute(
                    _FAILED,
                    {
                        "id": delivery.id,
                        "token": token,
                        "permanent": permanent,
                        "max": self.max_attempts,
                        "delay": self.backoff(delivery.attempts),
                        "error": error[:1000],
                    },
                )
            return False
        OUTBOX_DELIVERIES.labels(delivery.channel).inc()
        async with self.engine.begin() as conn:
            done = await conn.execute(_SENT, {"id": delivery.id, "token": token})
        if getattr(done, "rowcount", 1) == 0:
            log.warning("notification %s envoyée après expiration de son bail", delivery.id)
        return True

    async def run_once(self) -> int:
        """Claim one batch and deliver it; the number of rows handled."""
        token, deliveries = await self.claim()
        for delivery in deliveries:
            await self.deliver(token, delivery)
        return len(deliveries)

    async def drain(self) -> int:
        """Handle batches until nothing is due (`carto worker --once`, tests)."""
        total = 0
        while handled := await self.run_once():
            total += handled
        return total

    async def deliver_due(self, engine: AsyncEngine | None = None) -> int:
        """The scheduler's job (carto.worker): one batch; its size tells whether to go on."""
        return await self.run_once()
