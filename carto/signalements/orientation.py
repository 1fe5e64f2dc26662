"""The « à orienter » queue: tickets routed only by a legal default (no rule of the
authority's own) or to the front desk of an authority that does not use Carto.

They wait until an administrator confirms the default or re-routes the ticket. Who
may: the platform's administrators (admins of the `plateforme` authority), the
ticket's authority's admins, and the admins of an intercommunality the ticket's
commune belongs to. The decision is one `signalement_orientation` row plus a history
event (a confirmation) or a transfer (a re-routing), in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, DateTime, and_, func, literal, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from carto.errors import Conflict, Forbidden, InvalidInput
from carto.routing.models import CompetenceRule, Service
from carto.signalements import lifecycle
from carto.signalements.lifecycle import Actor
from carto.signalements.models import Signalement, SignalementEvent
from carto.signalements.orientation_models import SignalementOrientation
from carto.signalements.queries import _item, _queue_select
from carto.signalements.schemas import Queue
from carto.territories.models import Authority, Intercommunalite, IntercommunaliteMember

PLATFORM_KIND = "plateforme"
CONTACT_SLUG = "contact"
NOT_ALLOWED = (
    "Seuls les administrateurs de la plateforme, de la collectivité ou de son "
    "intercommunalité peuvent orienter ce signalement."
)


class OrientIn(BaseModel):
    """Confirm the default routing, or re-route to `service_id` (with a reason)."""

    action: Literal["confirm", "reroute"]
    service_id: int | None = None
    reason: str | None = Field(default=None, max_length=2000)


def _exists(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    """EXISTS correlated on the ticket only (the queue's select joins other tables)."""
    return select(literal(1)).where(*conditions).correlate(Signalement).exists()


def to_orient() -> ColumnElement[bool]:
    """Open, and either routed by a national default or to a front desk, not decided, not
    transferred; or sent on to the platform's own desk (an agent's « not ours », the
    État's roads) and not decided since it arrived there."""
    national = _exists(
        CompetenceRule.id == Signalement.rule_id, CompetenceRule.source == "national"
    )
    front_desk = _exists(Service.id == Signalement.service_id, Service.slug == CONTACT_SLUG)
    decided = _exists(SignalementOrientation.signalement_id == Signalement.id)
    transferred = _exists(
        SignalementEvent.signalement_id == Signalement.id, SignalementEvent.kind == "transfer"
    )
    at_platform = _exists(
        Service.id == Signalement.service_id,
        Authority.id == Service.authority_id,
        Authority.kind == PLATFORM_KIND,
    )
    arrived = (
        select(func.max(SignalementEvent.at))
        .where(
            SignalementEvent.signalement_id == Signalement.id, SignalementEvent.kind == "transfer"
        )
        .correlate(Signalement)
        .scalar_subquery()
    )
    decided_since = _exists(
        SignalementOrientation.signalement_id == Signalement.id,
        SignalementOrientation.at
        >= func.coalesce(arrived, literal("-infinity").cast(DateTime(timezone=True))),
    )
    return and_(
        Signalement.status == "open",
        or_(
            and_(or_(national, front_desk), ~decided, ~transferred),
            and_(at_platform, ~decided_since),
        ),
    )


async def is_platform_admin(session: AsyncSession, actor: Actor) -> bool:
    if not actor.admin_authority_ids:
        return False
    found = await session.scalar(
        select(Authority.id).where(
            Authority.kind == PLATFORM_KIND, Authority.id.in_(actor.admin_authority_ids)
        )
    )
    return found is not None


def _visible(actor: Actor) -> ColumnElement[bool]:
    """The tickets of the actor's authorities and of their member communes."""
    admins = sorted(actor.admin_authority_ids)
    of_interco = _exists(
        IntercommunaliteMember.insee == Signalement.commune_insee,
        Intercommunalite.siren == IntercommunaliteMember.siren,
        Intercommunalite.authority_id.in_(admins),
    )
    return or_(Signalement.authority_id.in_(admins), of_interco)


async def _scope(session: AsyncSession, actor: Actor) -> ColumnElement[bool] | None:
    if not actor.admin_authority_ids:
        raise Forbidden("La file « à orienter » est réservée aux administrateurs.")
    return None if await is_platform_admin(session, actor) else _visible(actor)


async def queue(*, session: AsyncSession, actor: Actor, limit: int = 50, offset: int = 0) -> Queue:
    """The « à orienter » tickets the actor may decide on, oldest first."""
    scope = await _scope(session, actor)
    conditions = [to_orient()] + ([scope] if scope is not None else [])
    query = _queue_select().where(*conditions)
    total = await session.scalar(
        select(func.count()).select_from(query.with_only_columns(Signalement.id).subquery())
    )
    rows = await session.execute(
        query.order_by(Signalement.created_at, Signalement.id).limit(limit).offset(offset)
    )
    now = datetime.now(UTC)
    return Queue(items=[_item(r, now) for r in rows], total=total or 0, limit=limit, offset=offset)


@dataclass(frozen=True)
class _Deciding:
    """The orienting administrator, given the ticket's service for the transfer's checks."""

    user_id: int | None
    service_ids: frozenset[int]
    admin_authority_ids: frozenset[int] = field(default_factory=frozenset)


async def orient(
    *, session: AsyncSession, signalement_id: int, actor: Actor, data: OrientIn,
    base_url: str = "",
) -> None:  # fmt: skip
    """Confirm or re-route an « à orienter » ticket; every check before any write."""
    sig = await lifecycle.locked(session, signalement_id)
    scope = await _scope(session, actor)
    if scope is not None:
        allowed = await session.scalar(select(Signalement.id).where(
            Signalement.id == sig.id, scope))  # fmt: skip
        if allowed is None:
            raise Forbidden(NOT_ALLOWED)
    pending = await session.scalar(select(Signalement.id).where(
        Signalement.id == sig.id, to_orient()))  # fmt: skip
    if pending is None:
        raise Conflict("Ce signalement n'est pas (ou plus) à orienter.")
    when = datetime.now(UTC)
    if data.action == "confirm":
        names = (await session.execute(text(
            "SELECT s.name, a.name FROM service s JOIN authority a ON a.id = s.authority_id "
            "WHERE s.id = :id"), {"id": sig.service_id})).one()  # fmt: skip
        session.add(SignalementEvent(
            signalement_id=sig.id, authority_id=sig.authority_id, kind="state",
            from_state=sig.state, to_state=sig.state, actor_user_id=actor.user_id, at=when,
            public_note=f"Orientation confirmée : {names[0]}, {names[1]}.",
        ))  # fmt: skip
        authority_id = sig.authority_id
    else:
        if data.service_id is None or not (data.reason or "").strip():
            raise InvalidInput(
                "Pour réorienter, indiquez le service et le motif (le citoyen le lira)."
            )
        deciding = _Deciding(user_id=actor.user_id, service_ids=frozenset({sig.service_id}))
        await lifecycle.transfer(
            session=session, signalement_id=sig.id, actor=deciding, service_id=data.service_id,
            reason=str(data.reason), internal_note="Réorienté depuis la file « à orienter ».",
            now=when, base_url=base_url, commit=False,
        )  # fmt: skip
        authority_id = sig.authority_id  # the transfer moved the ticket
    # One row per ticket, the latest decision: a ticket sent back to the platform's desk
    # after an earlier decision is decided again.
    await session.merge(SignalementOrientation(
        signalement_id=sig.id, authority_id=authority_id,
        outcome="confirmed" if data.action == "confirm" else "rerouted",
        user_id=actor.user_id, at=when,
    ))  # fmt: skip
    await session.commit()
