"""Services and categories: routing is data, not code (one row per service, per category)."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from carto.db import Base


class Service(Base):
    """A technical service of an authority, the recipient of routed tickets."""

    __tablename__ = "service"
    __table_args__ = (UniqueConstraint("authority_id", "slug"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authority.id"), index=True)
    slug: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    webhook_secret: Mapped[str | None] = mapped_column(String(200))


class Category(Base):
    """A kind of problem a citizen can report (Open311 `service_code`)."""

    __tablename__ = "category"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    icon: Mapped[str] = mapped_column(String(40), default="")
    group: Mapped[str] = mapped_column(String(80), default="")
    keywords: Mapped[str] = mapped_column(String(400), default="")
    due_days: Mapped[int] = mapped_column(Integer, default=15, doc="service level, in days")
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
