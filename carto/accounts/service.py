"""Account operations: plain functions, keyword-only session, no FastAPI."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from carto.accounts import throttle
from carto.accounts.models import RoleGrant, User
from carto.accounts.privacy import load_providers
from carto.accounts.security import hash_password, verify_password
from carto.errors import InvalidInput, NotAuthenticated

DELETED_PSEUDONYM = "participant supprimé"
_PERSONAL_IN_PSEUDONYM = re.compile(r"@|(?:\d[\s.-]?){8,}")


def normalize_email(email: str) -> str:
    return email.strip().lower()


async def find_user(*, session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == normalize_email(email)))


async def authenticate(
    *, session: AsyncSession, email: str, password: str, address: str, secret: str
) -> User | None:
    """The active user with these credentials, or None (same timing either way).

    Failures slow down the (account, address) pair and count against the address
    (carto.accounts.throttle): RateLimited while throttled. There is no lock of the
    account itself, which a stranger could use to shut its owner out."""
    pair, at_address = throttle.keys(email=normalize_email(email), address=address, secret=secret)
    await throttle.reserve(session=session, pair=pair, address=at_address)
    await session.commit()  # counted (as a failure until proven otherwise) and unlocked
    user = await find_user(session=session, email=email)
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not user.is_active or not ok:
        return None
    await throttle.record_success(session=session, pair=pair, address=at_address)
    user.last_login_at = datetime.now(UTC)
    await session.commit()
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
        failed_logins=0,
    )
    user.grants = grants or [RoleGrant(role="citizen")]
    return user


def check_pseudonym(pseudonym: str) -> str:
    """Pseudonyms are public: refuse ones that carry an e-mail or a phone number."""
    cleaned = " ".join(pseudonym.split())
    if _PERSONAL_IN_PSEUDONYM.search(cleaned):
        raise InvalidInput(
            "Le pseudonyme est public : il ne doit contenir ni e-mail ni numéro de téléphone."
        )
    return cleaned


async def sign_up(
    *, session: AsyncSession, email: str, password: str, pseudonym: str
) -> tuple[User, bool]:
    """Create a citizen account. Returns (user, created): an existing address is not
    revealed to the caller, the router answers the same either way."""
    existing = await find_user(session=session, email=email)
    if existing is not None:
        return existing, False
    user = make_user(email=email, password=password, pseudonym=check_pseudonym(pseudonym))
    session.add(user)
    await session.flush()
    return user, True


def password_fingerprint(user: User) -> str:
    """Changes whenever the password does, so a reset link works once."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


async def set_password(*, session: AsyncSession, user: User, password: str) -> None:
    """A new password also closes every session: tokens issued before stop working."""
    user.password_hash = hash_password(password)
    user.token_version += 1
    await session.commit()


async def revoke_tokens(*, session: AsyncSession, user: User) -> None:
    """Log out everywhere ("se déconnecter partout"): every token issued so far dies."""
    user.token_version += 1
    await session.commit()


async def export_personal_data(*, session: AsyncSession, user: User) -> dict[str, Any]:
    """Everything Carto holds about `user`, as JSON-ready data (RGPD right of access)."""
    data: dict[str, Any] = {
        "compte": {
            "id": user.id,
            "email": user.email,
            "pseudonyme": user.pseudonym,
            "email_verifie": user.email_verified,
            "cree_le": user.created_at.isoformat() if user.created_at else None,
            "derniere_connexion": user.last_login_at.isoformat() if user.last_login_at else None,
            "roles": [
                {"role": g.role, "service_id": g.service_id, "authority_id": g.authority_id}
                for g in user.grants
            ],
        }
    }
    for name, provider in sorted(load_providers().items()):
        data[name] = await provider.export(session, user.id)
    data["exporte_le"] = datetime.now(UTC).isoformat()
    return data


async def delete_account(*, session: AsyncSession, user: User, password: str) -> None:
    """Erase the person, keep their public contributions under "participant supprimé".

    The row stays (contributions and votes keep their foreign keys) but the e-mail,
    pseudonym, password and roles are gone, and every feature anonymises its rows."""
    if not verify_password(user.password_hash, password):
        raise NotAuthenticated("Mot de passe incorrect : le compte n'a pas été supprimé.")
    for provider in load_providers().values():
        await provider.anonymize(session, user.id)
    user.email = f"supprime-{user.id}@invalid.local"
    user.pseudonym = DELETED_PSEUDONYM
    user.password_hash = "!"  # noqa: S105 - matches no password
    user.is_active = False
    user.email_verified = False
    user.last_login_at = None
    user.deleted_at = datetime.now(UTC)
    user.grants = []
    await session.commit()
