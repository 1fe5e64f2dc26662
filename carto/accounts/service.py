"""Account operations: plain functions, keyword-only session, no FastAPI."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from carto.accounts import throttle
from carto.accounts.models import RoleGrant, User
from carto.accounts.privacy import PROVIDERS
from carto.credentials import (
    create_purpose_token,
    decode_purpose_token,
    hash_password,
    verify_password,
)
from carto.errors import InvalidInput, NotAuthenticated

DELETED_PSEUDONYM = "participant supprimé"
VERIFY_TTL = timedelta(hours=48)
RESET_TTL = timedelta(hours=1)


class Mailer(Protocol):
    """Queues an e-mail in the caller's transaction. The wiring (create_app) passes the
    outbox's `notify_email`: `notifications/` sits above this package in the layers."""

    async def __call__(
        self, *, session: AsyncSession, to: str, subject: str, text: str, event_key: str
    ) -> None: ...


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


async def sign_up_and_confirm(
    *,
    session: AsyncSession,
    email: str,
    password: str,
    pseudonym: str,
    secret: str,
    base_url: str,
    mail: Mailer,
) -> None:
    """Sign-up: create the account and mail its confirmation link, or, when the address
    already has an account, mail its owner that it exists (the caller learns neither)."""
    user, created = await sign_up(
        session=session, email=email, password=password, pseudonym=pseudonym
    )
    if created:
        token = create_purpose_token(user.id, "verify", secret, ttl=VERIFY_TTL, bind=user.email)
        link = f"{base_url}/api/v1/auth/verify?token={token}"
        text = (
            f"Bonjour {user.pseudonym},\n\nPour confirmer votre compte Carto, ouvrez ce lien "
            f"(valable 48 heures) :\n{link}\n\nSi vous n'êtes pas à l'origine de cette "
            "inscription, ignorez ce message."
        )
        await mail(
            session=session, to=user.email, subject="Confirmez votre compte Carto", text=text,
            event_key=f"verify:{user.id}",
        )  # fmt: skip
    else:
        text = (
            "Bonjour,\n\nQuelqu'un (vous, sans doute) a voulu créer un compte Carto avec cette "
            "adresse, qui en a déjà un. Pour retrouver l'accès, utilisez « mot de passe oublié »."
        )
        await mail(
            session=session, to=user.email, subject="Votre compte Carto existe déjà", text=text,
            event_key=f"signup-again:{user.id}:{uuid4().hex}",
        )  # fmt: skip
    await session.commit()


async def confirm_email(*, session: AsyncSession, token: str, secret: str) -> bool:
    """The confirmation link: marks the address verified; False for a bad or stale link."""
    claims = decode_purpose_token(token, "verify", secret)
    user = await session.get(User, int(claims["sub"])) if claims else None
    if claims is None or user is None or user.email != claims.get("bind"):
        return False
    user.email_verified = True
    await session.commit()
    return True


async def send_password_reset(
    *, session: AsyncSession, email: str, secret: str, base_url: str, mail: Mailer
) -> None:
    """Mail a one-use reset link when an active account has this address (silent if not)."""
    user = await find_user(session=session, email=email)
    if user is None or not user.is_active:
        return
    fingerprint = password_fingerprint(user)
    token = create_purpose_token(user.id, "reset", secret, ttl=RESET_TTL, bind=fingerprint)
    text = (
        "Bonjour,\n\nPour choisir un nouveau mot de passe Carto, ouvrez ce lien "
        f"(valable une heure) :\n{base_url}/#/mot-de-passe?token={token}\n\n"
        "Si vous n'avez rien demandé, ignorez ce message : rien ne change."
    )
    await mail(
        session=session, to=user.email, subject="Réinitialisation de votre mot de passe",
        text=text, event_key=f"reset:{user.id}:{fingerprint}:{uuid4().hex}",
    )  # fmt: skip
    await session.commit()


async def reset_password(*, session: AsyncSession, token: str, password: str, secret: str) -> None:
    """The reset link's second step; InvalidInput when the link is bad, stale or used."""
    claims = decode_purpose_token(token, "reset", secret)
    user = await session.get(User, int(claims["sub"])) if claims else None
    if (
        claims is None
        or user is None
        or not user.is_active
        or claims.get("bind") != password_fingerprint(user)
    ):
        raise InvalidInput("Lien de réinitialisation invalide, expiré ou déjà utilisé.")
    await set_password(session=session, user=user, password=password)


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
    for name, provider in sorted(PROVIDERS.items()):
        data[name] = await provider.export(session, user.id)
    data["exporte_le"] = datetime.now(UTC).isoformat()
    return data


async def delete_account(*, session: AsyncSession, user: User, password: str) -> None:
    """Erase the person, keep their public contributions under "participant supprimé".

    The row stays (contributions and votes keep their foreign keys) but the e-mail,
    pseudonym, password and roles are gone, and every feature anonymises its rows."""
    if not verify_password(user.password_hash, password):
        raise NotAuthenticated("Mot de passe incorrect : le compte n'a pas été supprimé.")
    for provider in PROVIDERS.values():
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
