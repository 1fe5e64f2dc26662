"""Password hashing (argon2id) and signed, expiring bearer tokens (JWT, HS256).

Infrastructure, not `accounts/`: the rate limits key a write by its token's account
before any route runs, and they sit below the feature packages."""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from carto.settings import Settings

_hasher = PasswordHasher()
# Verifying against this when the user is unknown keeps timing the same for both cases.
_DUMMY_HASH = _hasher.hash("carto-dummy-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def secret_key(settings: Settings) -> str:
    """`CARTO_SECRET_KEY`, or a random key generated once into the data dir (mode 0600)."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.data_dir) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def create_access_token(user_id: int, settings: Settings, key: str, *, version: int = 0) -> str:
    """A bearer token; `version` is the account's token version (`tv`), so that bumping
    the account's counter revokes every token issued before."""
    now = datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "tv": version,
        "iat": now,
        "exp": now + timedelta(minutes=settings.token_ttl_minutes),
        "typ": "access",
    }
    return jwt.encode(claims, key, algorithm="HS256")


def decode_access_token(token: str, key: str) -> dict[str, Any] | None:
    """The claims of a valid, unexpired access token, else None."""
    try:
        claims = jwt.decode(token, key, algorithms=["HS256"], options={"require": ["exp", "sub"]})
    except jwt.PyJWTError:
        return None
    return claims if claims.get("typ") == "access" else None


def create_purpose_token(
    user_id: int, purpose: str, key: str, *, ttl: timedelta, bind: str = ""
) -> str:
    """A single-purpose signed link token (e-mail verification, password reset).

    `bind` ties the token to a state (the e-mail address, the password fingerprint)
    so that it stops working once that state changes."""
    now = datetime.now(UTC)
    claims = {"sub": str(user_id), "typ": purpose, "bind": bind, "iat": now, "exp": now + ttl}
    return jwt.encode(claims, key, algorithm="HS256")


def decode_purpose_token(token: str, purpose: str, key: str) -> dict[str, Any] | None:
    try:
        claims = jwt.decode(token, key, algorithms=["HS256"], options={"require": ["exp", "sub"]})
    except jwt.PyJWTError:
        return None
    return claims if claims.get("typ") == purpose else None
