"""Sign-in throttling that a stranger cannot turn against an account's owner.

Two kinds of keys, both keyed hashes (no e-mail or address is stored):

- (account, address): after a few failures, an exponential back-off for that pair
  only. Someone guessing a password from one address slows down to a few tries an
  hour; the owner, from their own address, still signs in.
- address, across accounts: a cap on failures per window, against password
  spraying (one password tried on many accounts). A success does not reset it.

State is in PostgreSQL (`login_throttle`), so every app process agrees, on the
database clock. A refused attempt is answered 429 with Retry-After before the
password is even checked.
"""

from __future__ import annotations

import hashlib
import math

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from carto.errors import RateLimited

FREE_FAILURES = 3  # per (account, address) before any back-off
BASE_DELAY_S = 5  # then 5 s, 10 s, 20 s ... doubling at each failure
MAX_DELAY_S = 15 * 60
PAIR_MEMORY_S = 24 * 3600  # a pair's failures are forgotten a day after the first one
ADDRESS_LIMIT = 20  # failures per address, all accounts together, per window
ADDRESS_WINDOW_S = 15 * 60

_ENSURE = text(
    "INSERT INTO login_throttle (key, failures, window_start, updated_at)"
    " SELECT k, 0, now(), now() FROM unnest(CAST(:keys AS text[])) AS k ON CONFLICT DO NOTHING"
)
_LOCK = text(  # both rows, in key order (no deadlock), locked until the caller commits
    "SELECT extract(epoch FROM blocked_until - now()) AS wait FROM login_throttle"
    " WHERE key = ANY(:keys) ORDER BY key FOR UPDATE"
)
_GIVE_BACK = text(
    "UPDATE login_throttle SET failures = greatest(failures - 1, 0),"
    " blocked_until = CASE WHEN failures - 1 < :limit THEN NULL ELSE blocked_until END"
    " WHERE key = :key"
)
_FAIL = text(
    """
    INSERT INTO login_throttle AS t (key, failures, window_start, blocked_until, updated_at)
    VALUES (:key, 1, now(), NULL, now())
    ON CONFLICT (key) DO UPDATE SET
        failures = CASE WHEN t.window_start < now() - make_interval(secs => :memory)
                        THEN 1 ELSE t.failures + 1 END,
        window_start = CASE WHEN t.window_start < now() - make_interval(secs => :memory)
                            THEN now() ELSE t.window_start END,
        updated_at = now()
    RETURNING failures
    """
)
_BLOCK_FOR = text(
    "UPDATE login_throttle SET blocked_until = now() + make_interval(secs => :s) WHERE key = :key"
)
_BLOCK_TO_WINDOW_END = text(
    "UPDATE login_throttle SET blocked_until = window_start + make_interval(secs => :w)"
    " WHERE key = :key"
)


def _digest(secret: str, value: str) -> str:
    return hashlib.blake2b(value.encode(), key=secret.encode()[:64], digest_size=12).hexdigest()


def keys(*, email: str, address: str, secret: str) -> tuple[str, str]:
    """The (account, address) key and the address key of one attempt. The e-mail, not the
    account id: unknown addresses are throttled alike, which reveals nothing."""
    return (
        f"login:pair:{_digest(secret, email + '|' + address)}",
        f"login:ip:{_digest(secret, address)}",
    )


def pair_delay(failures: int) -> int:
    """Seconds the pair waits after its `failures`-th failure in a row."""
    if failures < FREE_FAILURES:
        return 0
    return min(MAX_DELAY_S, BASE_DELAY_S * 2 ** min(failures - FREE_FAILURES, 20))


async def reserve(*, session: AsyncSession, pair: str, address: str) -> None:
    """Count this attempt as a failure before the password is checked, on rows locked
    for the moment, so that guesses sent together cannot all slip in before the first
    is counted; raise RateLimited (429, Retry-After) while either key is blocked.
    A success gives the attempt back (`record_success`). The caller commits at once."""
    await session.execute(_ENSURE, {"keys": [pair, address]})
    rows = (await session.execute(_LOCK, {"keys": [pair, address]})).all()
    wait = max((float(r.wait) for r in rows if r.wait is not None and r.wait > 0), default=None)
    if wait is not None:
        await session.commit()
        seconds = max(1, math.ceil(float(wait)))
        raise RateLimited(
            "Trop de tentatives de connexion depuis votre adresse : réessayez dans "
            f"{_duration(seconds)}.",
            detail="login throttled",
            retry_after=seconds,
        )
    await _record_failure(session=session, pair=pair, address=address)


async def _record_failure(*, session: AsyncSession, pair: str, address: str) -> None:
    """Count one failure against both keys and block them as the policy says."""
    failures = int(await session.scalar(_FAIL, {"key": pair, "memory": PAIR_MEMORY_S}) or 0)
    delay = pair_delay(failures)
    if delay:
        await session.execute(_BLOCK_FOR, {"s": delay, "key": pair})
    at_address = int(await session.scalar(_FAIL, {"key": address, "memory": ADDRESS_WINDOW_S}) or 0)
    if at_address >= ADDRESS_LIMIT:
        await session.execute(_BLOCK_TO_WINDOW_END, {"w": ADDRESS_WINDOW_S, "key": address})


async def record_success(*, session: AsyncSession, pair: str, address: str) -> None:
    """The pair starts afresh; the address gets its reserved attempt back, no more (a
    success on one's own account must not reset a spraying count)."""
    await session.execute(text("DELETE FROM login_throttle WHERE key = :key"), {"key": pair})
    await session.execute(_GIVE_BACK, {"key": address, "limit": ADDRESS_LIMIT})


async def purge(*, session: AsyncSession) -> int:
    """Forget keys neither blocked nor touched for a day."""
    result = await session.execute(
        text(
            "DELETE FROM login_throttle WHERE updated_at < now() - make_interval(secs => :s)"
            " AND (blocked_until IS NULL OR blocked_until < now())"
        ),
        {"s": PAIR_MEMORY_S},
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _duration(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} seconde{'s' if seconds > 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minutes"
