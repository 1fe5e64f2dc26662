"""Rate limits on writes, shared by every process through one PostgreSQL counters table.

Sliding-window counters (the current and the previous fixed window, the previous
one weighted by how much of it still overlaps the sliding window): one row per key,
one UPSERT ... RETURNING per hit, on the database clock so that all processes agree.
Hits are counted in their own short, committed transaction, so that a request that
fails and rolls back still counts.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from fastapi import Request
from sqlalchemy import BigInteger, DateTime, Integer, String, func, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from carto.credentials import decode_access_token
from carto.db import Base
from carto.deps import SessionDep, client_address
from carto.errors import RateLimited
from carto.settings import Settings


class RateCounter(Base):
    """One key's hits in its current and previous windows (keys carry no raw address)."""

    __tablename__ = "rate_counter"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_no: Mapped[int] = mapped_column(BigInteger, doc="epoch seconds // window length")
    hits: Mapped[int] = mapped_column(Integer)
    prev_hits: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


@dataclass(frozen=True)
class Rule:
    """At most `limit` writes per `window_s` seconds, per address and per account."""

    limit: int
    window_s: int

    @classmethod
    def parse(cls, spec: str) -> Rule:
        """'120/60' (120 per 60 s) or '120/minute'."""
        units = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
        count, _, per = spec.strip().partition("/")
        per = per.strip().lower() or "minute"
        window = units[per] if per in units else int(per)
        rule = cls(int(count), window)
        if rule.limit < 1 or rule.window_s < 1:
            raise ValueError(f"invalid rate limit rule: {spec!r}")
        return rule


# Per address (and per account when signed in). The demo must allow >= 100 writes a
# minute from one address (contract), so no address rule is below that.
DEFAULT_RULES: dict[str, str] = {
    "signalement": "120/60",
    "contribution": "120/60",
    "vote": "300/60",
    "comment": "120/60",
    "signup": "120/60",
    "upload": "120/60",
    "login": "120/60",
    "write": "300/60",
}

_UPSERT = text(
    """
    WITH now AS (SELECT extract(epoch FROM clock_timestamp()) AS t)
    INSERT INTO rate_counter AS c (key, window_no, hits, prev_hits, updated_at)
    SELECT :key, floor(t / CAST(:w AS integer))::bigint, 1, 0, now() FROM now
    ON CONFLICT (key) DO UPDATE SET
        prev_hits = CASE
            WHEN c.window_no = EXCLUDED.window_no THEN c.prev_hits
            WHEN c.window_no = EXCLUDED.window_no - 1 THEN c.hits
            ELSE 0 END,
        hits = CASE WHEN c.window_no = EXCLUDED.window_no THEN c.hits + 1 ELSE 1 END,
        window_no = EXCLUDED.window_no,
        updated_at = now()
    RETURNING hits, prev_hits, (SELECT t FROM now) - window_no * CAST(:w AS integer) AS elapsed
    """
)


def _engine_of(session: AsyncSession) -> AsyncEngine:
    """The engine behind a session, so a hit can use its own connection and commit."""
    bind = session.bind
    if isinstance(bind, AsyncConnection):
        return bind.engine
    if isinstance(bind, AsyncEngine):
        return bind
    raise TypeError("session is not bound to an async engine")


def retry_after(hits: int, prev_hits: int, elapsed: float, rule: Rule) -> int:
    """Seconds until the sliding estimate falls back under the limit (at least 1)."""
    if hits > rule.limit or prev_hits == 0:
        wait = rule.window_s - elapsed
    else:
        # prev * (1 - (elapsed + t) / window) + hits <= limit
        needed = rule.window_s * (1 - (rule.limit - hits) / prev_hits)
        wait = needed - elapsed
    return max(1, math.ceil(wait))


async def hit(*, session: AsyncSession, key: str, limit: int, window_s: int) -> None:
    """Count one write for `key`; raise RateLimited (429, Retry-After) above `limit`.

    Runs on its own connection and commits at once: autonomous of the caller's
    transaction, so a rolled-back request still counts.
    """
    rule = Rule(limit, window_s)
    async with _engine_of(session).begin() as conn:
        row = (await conn.execute(_UPSERT, {"key": key[:200], "w": window_s})).one()
    hits, prev_hits, elapsed = int(row.hits), int(row.prev_hits), float(row.elapsed)
    estimate = prev_hits * max(0.0, 1 - elapsed / window_s) + hits
    if estimate > limit:
        wait = retry_after(hits, prev_hits, elapsed, rule)
        raise RateLimited(
            f"Trop de requêtes : réessayez dans {wait} seconde{'s' if wait > 1 else ''}.",
            detail=f"rate limit {key.split(':', 1)[0]} {limit}/{window_s}s",
            retry_after=wait,
        )


async def purge_counters(*, session: AsyncSession, older_than_s: int = 86400) -> int:
    """Forget keys idle for longer than any window (the table stays small)."""
    result = await session.execute(
        text("DELETE FROM rate_counter WHERE updated_at < now() - make_interval(secs => :s)"),
        {"s": older_than_s},
    )
    return int(getattr(result, "rowcount", 0) or 0)


def rules(settings: Settings) -> dict[str, Rule]:
    """The named rules in force: defaults, overridden by CARTO_RATE_LIMIT_RULES."""
    merged = {**DEFAULT_RULES, **settings.rate_limit_rules}
    return {name: Rule.parse(spec) for name, spec in merged.items()}


def _digest(secret: str, value: str) -> str:
    """Keys hold a keyed hash, not the address or account id (counters are not a log)."""
    return hashlib.blake2b(value.encode(), key=secret.encode()[:64], digest_size=12).hexdigest()


def client_keys(request: Request, name: str) -> list[str]:
    """The keys one write counts against: its address, and its account when signed in."""
    secret: str = request.app.state.secret_key
    address = client_address(request) or "unknown"
    keys = [f"{name}:ip:{_digest(secret, address)}"]
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() == "bearer" and token:
        claims = decode_access_token(token.strip(), secret)
        if claims is not None and claims.get("sub"):
            keys.append(f"{name}:user:{_digest(secret, str(claims['sub']))}")
    return keys


async def check(request: Request, session: AsyncSession, name: str) -> None:
    """Apply rule `name` to this request (nothing when CARTO_RATE_LIMITS=off)."""
    settings: Settings = request.app.state.settings
    if not settings.rate_limits_enabled:
        return
    all_rules = rules(settings)
    if name not in all_rules:
        raise KeyError(f"unknown rate limit rule {name!r}; add it to DEFAULT_RULES")
    rule = all_rules[name]
    for key in client_keys(request, name):
        await hit(session=session, key=key, limit=rule.limit, window_s=rule.window_s)


def rate_limited(name: str) -> Callable[[Request, AsyncSession], Awaitable[None]]:
    """Dependency factory for write routes: `dependencies=[Depends(rate_limited("vote"))]`."""
    if name not in DEFAULT_RULES:
        raise KeyError(f"unknown rate limit rule {name!r}; add it to DEFAULT_RULES")

    async def _limit(request: Request, session: SessionDep) -> None:
        await check(request, session, name)

    _limit.__name__ = f"rate_limited_{name}"
    return _limit
