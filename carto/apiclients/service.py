"""API clients: create, list, revoke, and check a presented Open311 key against its scope.

Keys are 256-bit random strings; the database keeps their sha256 only (a key has
too much entropy for a slow hash to matter), so a leaked table gives no key.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from carto.apiclients.models import ApiClient, ApiClientService
from carto.apiclients.schemas import ApiClientCreate, ApiClientPublic, ServiceRef
from carto.errors import Forbidden, InvalidInput, NotFound
from carto.routing.models import Service
from carto.territories.models import Authority

log = logging.getLogger("carto.apiclients")
KEY_PREFIX = "c311_"
MAX_KEY_LENGTH = 200


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class KeyScope:
    """What a presented key allows. `authority_id` None: a deployment-wide key (env)."""

    client_id: int | None
    name: str
    authority_id: int | None = None
    service_ids: frozenset[int] = frozenset()

    def allows(self, *, service_id: int, authority_id: int) -> bool:
        if self.authority_id is None:
            return True
        if authority_id != self.authority_id:
            return False
        return not self.service_ids or service_id in self.service_ids

    @property
    def restricted(self) -> bool:
        return self.authority_id is not None


async def _services_of(session: AsyncSession, authority_id: int, ids: list[int]) -> list[Service]:
    found = list(
        await session.scalars(
            select(Service).where(Service.id.in_(ids), Service.authority_id == authority_id)
        )
    )
    if len(found) != len(set(ids)):
        raise InvalidInput("Service(s) inconnu(s) ou n'appartenant pas à cette collectivité.")
    return found


async def create_client(
    *,
    session: AsyncSession,
    data: ApiClientCreate,
    admin_of: Collection[int] | None,
    created_by: int | None,
) -> tuple[ApiClientPublic, str]:
    """A new client and its key (returned once). `admin_of` None: no role check (CLI)."""
    if admin_of is not None and data.authority_id not in admin_of:
        raise Forbidden("Vous n'administrez pas cette collectivité.")
    if await session.get(Authority, data.authority_id) is None:
        raise InvalidInput("Collectivité inconnue.")
    services = await _services_of(session, data.authority_id, data.service_ids)
    key = generate_key()
    client = ApiClient(
        name=data.name, key_hash=hash_key(key), key_prefix=key[: len(KEY_PREFIX) + 6],
        authority_id=data.authority_id, created_by_user_id=created_by,
        created_at=datetime.now(UTC),
        services=[ApiClientService(service_id=s.id) for s in services],
    )  # fmt: skip
    session.add(client)
    await session.flush()
    public = (await _public(session, [client]))[0]
    await session.commit()
    return public, key


async def _public(session: AsyncSession, clients: list[ApiClient]) -> list[ApiClientPublic]:
    service_ids = {s.service_id for c in clients for s in c.services}
    services = {
        s.id: s for s in await session.scalars(select(Service).where(Service.id.in_(service_ids)))
    }
    rows = await session.execute(
        select(Authority.id, Authority.name).where(
            Authority.id.in_({c.authority_id for c in clients})
        )
    )
    names = {row[0]: row[1] for row in rows}
    return [
        ApiClientPublic(
            id=c.id,
            name=c.name,
            key_prefix=c.key_prefix,
            authority_id=c.authority_id,
            authority=names.get(c.authority_id, ""),
            services=[
                ServiceRef(id=s.id, slug=s.slug, name=s.name)
                for s in sorted((services[x.service_id] for x in c.services), key=lambda s: s.id)
            ],
            created_at=c.created_at,
            revoked_at=c.revoked_at,
            last_used_at=c.last_used_at,
        )  # fmt: skip
        for c in clients
    ]


async def list_clients(
    *, session: AsyncSession, admin_of: Collection[int] | None
) -> list[ApiClientPublic]:
    """The clients of the caller's authorities (all of them for `admin_of` None)."""
    query = select(ApiClient).order_by(ApiClient.id)
    if admin_of is not None:
        query = query.where(ApiClient.authority_id.in_(list(admin_of)))
    return await _public(session, list(await session.scalars(query)))


async def revoke_client(
    *, session: AsyncSession, client_id: int, admin_of: Collection[int] | None
) -> ApiClientPublic:
    """Revoke a key for good (idempotent); the row stays for the record."""
    client = await session.get(ApiClient, client_id)
    if client is None or (admin_of is not None and client.authority_id not in admin_of):
        raise NotFound(f"Client d'API n° {client_id} introuvable.")
    if client.revoked_at is None:
        client.revoked_at = datetime.now(UTC)
    await session.flush()
    public = (await _public(session, [client]))[0]
    await session.commit()
    return public


def _env_keys(raw: str) -> list[str]:
    return [k.strip() for k in raw.split(",") if k.strip()]


async def authenticate_key(
    *, session: AsyncSession, key: str | None, env_keys: str = "", required: bool = False
) -> KeyScope | None:
    """The scope of a presented Open311 key; None for an anonymous caller.

    Keys listed in `env_keys` (CARTO_OPEN311_API_KEYS) are deployment-wide and make a
    key required. A revoked key is always refused. An unknown key is refused when keys
    are required; otherwise it grants nothing and the caller is anonymous."""
    listed = _env_keys(env_keys)
    required = required or bool(listed)
    key = key.strip() if key else None
    if key and len(key) <= MAX_KEY_LENGTH:
        if any(hmac.compare_digest(key.encode(), k.encode()) for k in listed):
            return KeyScope(client_id=None, name="clé de déploiement")
        client = await session.scalar(select(ApiClient).where(ApiClient.key_hash == hash_key(key)))
        if client is not None:
            if client.revoked_at is not None:
                raise Forbidden("Cette clé d'API (api_key) a été révoquée.")
            await _touch(session, client.id)
            return KeyScope(
                client_id=client.id, name=client.name, authority_id=client.authority_id,
                service_ids=frozenset(s.service_id for s in client.services),
            )  # fmt: skip
        log.info("unknown Open311 api_key presented (prefix %r)", key[:8])
    if required:
        raise Forbidden("Clé d'API (api_key) absente ou invalide : impossible de créer la demande.")
    return None


async def _touch(session: AsyncSession, client_id: int) -> None:
    """last_used_at, at most once a minute (a busy client does not queue on its row)."""
    await session.execute(
        update(ApiClient)
        .where(
            ApiClient.id == client_id,
            or_(
                ApiClient.last_used_at.is_(None),
                ApiClient.last_used_at < text("now() - interval '1 minute'"),
            ),
        )
        .values(last_used_at=text("now()"))
        .execution_options(synchronize_session=False)
    )


def check_scope(scope: KeyScope | None, *, service_id: int, authority_id: int, where: str) -> None:
    """Refuse (403) a request routed outside the key's scope; `where` names the recipient."""
    if scope is None or scope.allows(service_id=service_id, authority_id=authority_id):
        return
    raise Forbidden(
        f"La clé d'API « {scope.name} » ne permet pas de créer cette demande : elle relève "
        f"de {where}, hors du périmètre de la clé. Rien n'a été enregistré."
    )
