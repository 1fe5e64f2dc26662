"""`Idempotency-Key` on the creating POSTs: a retried request answers the first answer again.

A client that retries after a timeout or a dropped connection must not file a
report twice. With the header, the route claims the key in the same transaction
as what it stores, and records its answer there before the commit: the key and
the report commit together or not at all. A second request with the key waits on
the first one's row (PostgreSQL's unique index), then reads its answer: the same
status and body when the request is the same, 409 when it is another. Keys are
scoped to the caller (account, API client, or a keyed hash of the address), kept
24 hours: an expired key is taken over on write and pruned by the hourly
housekeeping (carto.worker). Without the header nothing changes:
no extra statement, the intake's single autocommitted statement stays as it is.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import DateTime, Integer, LargeBinary, String, func, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from carto.db import Base
from carto.deps import client_address
from carto.errors import CartoError, Conflict

HEADER = "Idempotency-Key"
MAX_KEY_CHARS = 200
TTL_HOURS = 24
# The header in the OpenAPI of the routes that accept it (`openapi_extra=`): they read it
# from the request themselves (`claim_of`), so FastAPI would not list it.
OPENAPI_EXTRA = {
    "parameters": [
        {
            "name": HEADER,
            "in": "header",
            "required": False,
            "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_CHARS},
            "description": (
                "Clé choisie par le client (ASCII imprimable) : une nouvelle tentative avec la "
                "même clé et le même corps renvoie la première réponse sans rien enregistrer "
                "de nouveau (24 h) ; la même clé avec un autre corps répond 409."
            ),
        }
    ]
}


class IdempotencyRecord(Base):
    """The first answer given under a caller's key (a 2xx only: failures store nothing)."""

    __tablename__ = "idempotency_key"

    scope: Mapped[str] = mapped_column(String(80), primary_key=True, doc="u:, c:, k: or a:")
    key: Mapped[str] = mapped_column(String(MAX_KEY_CHARS), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), doc="sha256 of method, path, body")
    status: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(100))
    location: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )


class BadIdempotencyKey(CartoError):
    """The header is there but unusable (empty, too long, not printable ASCII)."""

    status_code = 400
    code = "bad_idempotency_key"


@dataclass(frozen=True)
class Claim:
    """A request that carries a key: who sent it, the key, and what it asked."""

    scope: str
    key: str
    fingerprint: str


def caller_scope(request: Request, *, user_id: int | None = None, client: str | None = None) -> str:
    """The key's owner: the account, else the API client, else a keyed hash of the
    address (never the address itself)."""
    if user_id is not None:
        return f"u:{user_id}"
    if client is not None:
        return f"c:{client}"[:80]
    host = client_address(request) or "-"
    secret = str(getattr(request.app.state, "secret_key", "")).encode()
    return "a:" + hmac.new(secret, host.encode(), hashlib.sha256).hexdigest()[:40]


async def claim_of(request: Request, scope: str) -> Claim | None:
    """The request's claim, or None without the header (400 when the header is unusable)."""
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    key = raw.strip()
    if not key or len(key) > MAX_KEY_CHARS or not all(" " <= ch <= "~" for ch in key):
        raise BadIdempotencyKey(
            f"En-tête {HEADER} invalide : de 1 à {MAX_KEY_CHARS} caractères ASCII imprimables."
        )
    digest = hashlib.sha256(f"{request.method} {request.url.path}?{request.url.query}\n".encode())
    digest.update(await request.body())
    return Claim(scope=scope, key=key, fingerprint=digest.hexdigest())


_CLAIM = text(
    f"""INSERT INTO idempotency_key (scope, key, fingerprint, created_at)
    VALUES (:scope, :key, :fingerprint, now())
    ON CONFLICT (scope, key) DO UPDATE
        SET fingerprint = EXCLUDED.fingerprint, status = NULL, content_type = NULL,
            location = NULL, body = NULL, created_at = EXCLUDED.created_at
        WHERE idempotency_key.created_at < now() - interval '{TTL_HOURS} hours'
    RETURNING 1"""
)
_STORED = text(
    """SELECT fingerprint, status, content_type, location, body FROM idempotency_key
    WHERE scope = :scope AND key = :key"""
)
_RECORD = text(
    """UPDATE idempotency_key
    SET status = :status, content_type = :content_type, location = :location, body = :body
    WHERE scope = :scope AND key = :key"""
)


async def begin(session: AsyncSession, claim: Claim) -> Response | None:
    """Take the key in the session's transaction (None: go on, then `record`), or the
    first answer to replay. Waits while another request holds the same key."""
    params = {"scope": claim.scope, "key": claim.key, "fingerprint": claim.fingerprint}
    conn = await session.connection()  # plain statements: no ORM machinery per call
    if (await conn.execute(_CLAIM, params)).first() is not None:
        return None
    row = (await conn.execute(_STORED, params)).one()
    await session.rollback()  # nothing of ours to keep; frees the connection's transaction
    if row.status is None:  # cannot be committed so; kept safe all the same
        raise Conflict("Une requête avec cette clé d'idempotence est en cours.")
    if row.fingerprint != claim.fingerprint:
        raise Conflict(
            "Cette clé d'idempotence a déjà servi pour une autre requête : "
            "utilisez une nouvelle clé pour une nouvelle demande."
        )
    headers = {"Location": row.location} if row.location else None
    return Response(row.body, status_code=row.status, media_type=row.content_type, headers=headers)


async def record(session: AsyncSession, claim: Claim, response: Response) -> None:
    """Keep the answer with the key, in the transaction that stored the object."""
    conn = await session.connection()
    await conn.execute(
        _RECORD,
        {
            "scope": claim.scope, "key": claim.key, "status": response.status_code,
            "content_type": response.headers.get("content-type"),
            "location": response.headers.get("location"), "body": bytes(response.body),
        },
    )  # fmt: skip


async def purge_expired(*, session: AsyncSession) -> int:
    """Forget keys older than their 24 hours (the hourly housekeeping)."""
    result = await session.execute(
        text(f"DELETE FROM idempotency_key WHERE created_at < now() - interval '{TTL_HOURS} hours'")
    )
    return int(getattr(result, "rowcount", 0) or 0)
