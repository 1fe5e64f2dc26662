"""The follow link of an e-mail to an authority that does not use Carto: its staff see
the ticket and acknowledge, resolve or reject it without an account.

The token is `<ticket>.<expiry>.<recipient>.<signature>`: an HMAC-SHA256 with a key
derived from the app's secret over the ticket id, the Unix expiry and the recipient's
address (base64url), so it is bound to one ticket and one recipient and expires. It is
signed when the e-mail leaves (the outbox's sender), because the ticket's id is only
known once the intake statement has run: the e-mail's text carries `PLACEHOLDER` and
its payload `follow = {signalement_id, recipient}`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from carto.errors import CartoError, Forbidden

PLACEHOLDER = "[[lien-de-suivi]]"
DAYS_PLACEHOLDER = "[[jours]]"  # the lifetime, known to the sender (CARTO_FOLLOW_LINK_DAYS)
LIFETIME = timedelta(days=30)  # the default of CARTO_FOLLOW_LINK_DAYS
PATH = "/suivi-mairie/"


class LinkExpired(CartoError):
    status_code = 410
    code = "link_expired"


@dataclass(frozen=True)
class FollowClaim:
    signalement_id: int
    recipient: str
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, body: str) -> str:
    key = hmac.new(secret.encode(), b"carto follow link", hashlib.sha256).digest()
    return _b64(hmac.new(key, body.encode(), hashlib.sha256).digest())


def sign(
    secret: str, signalement_id: int, recipient: str, *, now: datetime | None = None,
    lifetime: timedelta = LIFETIME,
) -> str:  # fmt: skip
    """A token for `recipient` on ticket `signalement_id`, valid `lifetime` from `now`."""
    expires = int(((now or datetime.now(UTC)) + lifetime).timestamp())
    body = f"{int(signalement_id)}.{expires}.{_b64(recipient.strip().lower().encode())}"
    return f"{body}.{_mac(secret, body)}"


def verify(secret: str, token: str, *, now: datetime | None = None) -> FollowClaim:
    """The claim of a genuine, unexpired token; Forbidden (403) or LinkExpired (410)."""
    parts = token.split(".")
    bad = Forbidden("Lien de suivi invalide : il a été modifié ou tronqué.")
    if len(parts) != 4 or not hmac.compare_digest(_mac(secret, ".".join(parts[:3])), parts[3]):
        raise bad
    try:
        ticket, expires = int(parts[0]), int(parts[1])
        recipient = _unb64(parts[2]).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise bad from None
    expires_at = datetime.fromtimestamp(expires, UTC)
    if expires_at <= (now or datetime.now(UTC)):
        raise LinkExpired(
            f"Ce lien de suivi a expiré le {expires_at:%d/%m/%Y} : "
            "demandez un nouveau lien à la plateforme Carto."
        )
    return FollowClaim(ticket, recipient, expires_at)


def follow_payload(signalement_id: int | str, recipient: str) -> dict[str, Any]:
    """What the sender needs to sign the link (the id may be the intake's stand-in)."""
    return {"signalement_id": signalement_id, "recipient": recipient}


def expand(
    payload: dict[str, Any], secret: str, *, now: datetime | None = None,
    lifetime: timedelta = LIFETIME,
) -> dict[str, Any]:  # fmt: skip
    """The payload with its text's PLACEHOLDER replaced by a freshly signed token, valid
    `lifetime`, and DAYS_PLACEHOLDER by that lifetime in days."""
    follow = payload.get("follow")
    text = str(payload.get("text", ""))
    if not isinstance(follow, dict) or PLACEHOLDER not in text:
        return payload
    token = sign(secret, int(follow["signalement_id"]), str(follow["recipient"]), now=now,
                 lifetime=lifetime)  # fmt: skip
    text = text.replace(PLACEHOLDER, token).replace(DAYS_PLACEHOLDER, str(lifetime.days))
    return {**payload, "text": text}
