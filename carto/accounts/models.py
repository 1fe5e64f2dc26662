"""Users and their role grants. Personal data (e-mail) lives here, never in public views."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carto.db import Base

ROLES = ("citizen", "moderator", "agent", "admin")


class User(Base):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, doc="stored lower-cased")
    pseudonym: Mapped[str] = mapped_column(String(80), doc="what other people see")
    password_hash: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Unused since migration v016 (login_throttle replaces the per-account lock).
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    token_version: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0", doc="in every token; bumped to revoke them all"
    )
    deleted_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), doc="account deleted: e-mail and pseudonym scrubbed"
    )

    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )


class RoleGrant(Base):
    """One role of one user, scoped: agent -> a service, admin -> an authority."""

    __tablename__ = "role_grant"
    __table_args__ = (
        UniqueConstraint("user_id", "role", "service_id", "authority_id"),
        CheckConstraint("role IN ('citizen', 'moderator', 'agent', 'admin')", name="role_known"),
        CheckConstraint("role <> 'agent' OR service_id IS NOT NULL", name="agent_has_service"),
        CheckConstraint("role <> 'admin' OR authority_id IS NOT NULL", name="admin_has_authority"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"))
    authority_id: Mapped[int | None] = mapped_column(ForeignKey("authority.id", ondelete="CASCADE"))

    user: Mapped[User] = relationship(back_populates="grants")


class LoginThrottle(Base):
    """Failed sign-ins of one key: (account, address) or an address across accounts.

    Keys are keyed hashes (no raw address or e-mail); see carto.accounts.throttle."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    blocked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
