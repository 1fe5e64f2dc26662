"""The transactional outbox: a notification is a row written in the same transaction as
the change it announces, delivered later by a worker (at least once, keyed by event_key).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from carto.db import Base

CHANNELS = ("email", "webhook")
STATUSES = ("pending", "sending", "sent", "failed", "dead")


class OutboxMessage(Base):
    """One notification to deliver. `failed` will be retried; `dead` will not."""

    __tablename__ = "notification_outbox"
    __table_args__ = (
        CheckConstraint("channel IN ('email', 'webhook')", name="channel_known"),
        CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'failed', 'dead')", name="status_known"
        ),
        # What the worker scans: due rows, including `sending` rows whose lease expired.
        Index(
            "ix_notification_outbox_due",
            "next_attempt_at",
            postgresql_where=text("status IN ('pending', 'failed', 'sending')"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(320), doc="e-mail address, or service:<id>")
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    event_key: Mapped[str] = mapped_column(String(200), unique=True, doc="idempotency key")
    authority_id: Mapped[int | None] = mapped_column(
        ForeignKey("authority.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), doc="for `sending`: lease expiry"
    )
    claim_token: Mapped[str | None] = mapped_column(String(40), doc="who holds the lease")
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
