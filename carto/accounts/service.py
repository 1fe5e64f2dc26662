"""Account operations: plain functions, keyword-only session, no FastAPI."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from carto.accounts.models import RoleGrant, User
from carto.accounts.security import hash_password, verify_password


def normalize_email(email: str) -> str:
    return email.strip().lower()


async def authenticate(*, session: AsyncSession, email: str, password: str) -> User | None:
    """The active user with these credentials, or None (same timing either way)."""
    user = await session.scalar(select(User).where(User.email == normalize_email(email)))
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.is_active:
        return None
    return user


async def get_user(*, session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


def make_user(
    *, email: str, password: str, pseudonym: str, grants: list[RoleGrant] | None = None
) -> User:
    """A new user object (not yet added); the caller owns the transaction."""
    user = User(
        email=normalize_email(email),
        pseudonym=pseudonym,
        password_hash=hash_password(password),
        email_verified=False,
        is_active=True,
    )
    user.grants = grants or [RoleGrant(role="citizen")]
    return user
