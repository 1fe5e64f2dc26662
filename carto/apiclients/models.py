"""API clients and their scope. Only a hash of each key is stored; the key is shown once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carto.db import Base


class ApiClient(Base):
    """A program that posts Open311 requests with a key, on behalf of one authority.

    With no `services` rows the key covers every service of `authority_id`;
    otherwise only those services."""

    __tablename__ = "api_client"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, doc="sha256 hex of the key")
    key_prefix: Mapped[str] = mapped_column(String(16), doc="first characters, to recognise it")
    authority_id: Mapped[int] = mapped_column(
        ForeignKey("authority.id", ondelete="CASCADE"), index=True
    )
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    services: Mapped[list[ApiClientService]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )


class ApiClientService(Base):
    """One service a client's key is restricted to."""

    __tablename__ = "api_client_service"

    client_id: Mapped[int] = mapped_column(
        ForeignKey("api_client.id", ondelete="CASCADE"), primary_key=True
    )
    service_id: Mapped[int] = mapped_column(
        ForeignKey("service.id", ondelete="CASCADE"), primary_key=True, index=True
    )
