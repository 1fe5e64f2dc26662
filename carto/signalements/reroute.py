"""Bulk re-routing after a competence rule changed: the open tickets of the rule's
category and territory whose whole decision (authority, service, explanation) now
differs, previewed, then moved in one transaction, each by a transfer event the
citizen reads and its notifications.

Each ticket is routed again by the single-report path (`resolve`, same statement and
cached rule set) at its point, with its recorded road class, so a re-routed ticket
carries exactly what a new report there would.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from carto.errors import CartoError, Forbidden, NotFound
from carto.routing.competences import concerned_authorities
from carto.routing.decision import RoutingDecision
from carto.routing.models import CompetenceRule
from carto.routing.resolution import resolve
from carto.signalements import lifecycle
from carto.signalements.models import Signalement
from carto.territories.models import Commune, IntercommunaliteMember

PREVIEW_ITEMS = 100


class RerouteItem(BaseModel):
    id: int
    from_service_id: int
    to_service_id: int
    to_service: str
    explanation: str


class RerouteResult(BaseModel):
    """What the rule change moves (`applied`: already moved)."""

    rule_id: int
    examined: int
    count: int
    applied: bool
    items: list[RerouteItem]


@dataclass(frozen=True)
class _Mover:
    """The administrator (or the CLI: no user) acting as staff of the ticket's service."""

    user_id: int | None
    service_ids: frozenset[int]
    admin_authority_ids: frozenset[int] = field(default_factory=frozenset)


def _in_scope(rule: CompetenceRule) -> object:
    code = rule.scope_code
    if rule.scope_kind == "commune":
        return Signalement.commune_insee == code
    if rule.scope_kind == "intercommunalite":
        members = select(IntercommunaliteMember.insee).where(IntercommunaliteMember.siren == code)
        return Signalement.commune_insee.in_(members)
    if rule.scope_kind == "departement":
        return Signalement.commune_insee.in_(
            select(Commune.insee).where(Commune.departement == code)
        )
    return Signalement.id.is_not(None)


async def _rule(
    session: AsyncSession, rule_id: int, admin_of: Collection[int] | None
) -> CompetenceRule:
    rule = await session.get(CompetenceRule, rule_id)
    if rule is None:
        raise NotFound(f"Règle de compétence n° {rule_id} introuvable.")
    if admin_of is not None:
        concerned = await concerned_authorities(
            session=session, scope_kind=rule.scope_kind, scope_code=rule.scope_code,
            authority_id=None,
        )  # fmt: skip
        if rule.scope_kind == "everywhere" or not concerned.intersection(admin_of):
            raise Forbidden("Vous n'administrez aucune collectivité concernée par cette règle.")
    return rule


async def plan(
    *, session: AsyncSession, rule_id: int, admin_of: Collection[int] | None = None
) -> tuple[int, list[tuple[Signalement, RerouteItem, RoutingDecision]]]:
    """(tickets examined, those whose decision changed, with the new decision)."""
    rule = await _rule(session, rule_id, admin_of)
    rows = await session.execute(
        select(Signalement, func.ST_X(Signalement.geom), func.ST_Y(Signalement.geom))
        .where(Signalement.status == "open", Signalement.category_code == rule.category_code,
               _in_scope(rule))  # type: ignore[arg-type]
        .order_by(Signalement.id)
    )  # fmt: skip
    examined, moves = 0, []
    for sig, lon, lat in rows.all():
        examined += 1
        try:
            d = await resolve(session=session, lon=lon, lat=lat, category_code=sig.category_code,
                              road_class=sig.road_class)  # fmt: skip
        except CartoError:
            continue  # no rule designates anybody there any more: left where it is
        if d.service_id != sig.service_id:
            item = RerouteItem(
                id=sig.id, from_service_id=sig.service_id, to_service_id=d.service_id,
                to_service=f"{d.service_name}, {d.authority_name}", explanation=d.explanation,
            )  # fmt: skip
            moves.append((sig, item, d))
    return examined, moves


async def reroute(
    *, session: AsyncSession, rule_id: int, apply: bool, user_id: int | None = None,
    admin_of: Collection[int] | None = None, base_url: str = "",
) -> RerouteResult:  # fmt: skip
    """Preview (`apply` false: nothing written) or apply the re-routing of a rule change."""
    examined, moves = await plan(session=session, rule_id=rule_id, admin_of=admin_of)
    if apply:
        for sig, item, d in moves:
            await lifecycle.transfer(
                session=session, signalement_id=sig.id, service_id=item.to_service_id,
                actor=_Mover(user_id=user_id, service_ids=frozenset({sig.service_id})),
                reason=f"Règles de compétence modifiées : désormais {item.to_service}.",
                internal_note=f"Réacheminement groupé après la règle n° {rule_id}.",
                base_url=base_url, commit=False,
            )  # fmt: skip
            sig.explanation, sig.rule_id = d.explanation, d.rule_id
            sig.intercommunalite_siren = d.intercommunalite_siren
        await session.commit()
    return RerouteResult(
        rule_id=rule_id, examined=examined, count=len(moves), applied=apply,
        items=[item for _, item, _ in moves[:PREVIEW_ITEMS]],
    )  # fmt: skip
