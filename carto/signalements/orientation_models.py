"""The « à orienter » decisions (migration y001): one row per ticket once decided."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from carto.db import Base


class SignalementOrientation(Base):
    """An administrator confirmed a default-routed ticket or re-routed it."""

    __tablename__ = "signalement_orientation"
    __table_args__ = (
        CheckConstraint("outcome IN ('confirmed', 'rerouted')", name="outcome_known"),
    )

    signalement_id: Mapped[int] = mapped_column(
        ForeignKey("signalement.id", ondelete="CASCADE"), primary_key=True
    )
    authority_id: Mapped[int] = mapped_column(ForeignKey("authority.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
