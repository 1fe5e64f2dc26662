"""Where an agent may send a ticket on: the services that can take it.

A ticket belongs to its commune: the services that can take it are first those of
the commune's own authority and of the intercommunalities it belongs to, grouped by
authority. Any other service (a national deployment has tens of thousands) is only
offered through a search on its name or its authority's, never in one long list.
"""

from __future__ import annotations

from typing import Any, Literal, cast

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from carto.errors import Forbidden, NotFound
from carto.routing.models import Service
from carto.signalements.lifecycle import NOT_STAFF, Actor, is_staff
from carto.signalements.models import Signalement
from carto.signalements.schemas import TransferCandidates, TransferGroup, TransferService
from carto.territories.models import Authority, Commune, Intercommunalite, IntercommunaliteMember
from carto.territories.national_models import holds_ground

SEARCH_LIMIT = 50
Relation = Literal["commune", "intercommunalite", "autre"]


async def _local_authorities(session: AsyncSession, insee: str) -> list[tuple[int, str]]:
    """(authority id, relation) of the commune, then of its intercommunalities by name."""
    commune = await session.scalar(select(Commune.authority_id).where(Commune.insee == insee))
    rows = await session.execute(
        select(Intercommunalite.authority_id)
        .join(IntercommunaliteMember, IntercommunaliteMember.siren == Intercommunalite.siren)
        .where(IntercommunaliteMember.insee == insee)
        .order_by(Intercommunalite.nom)
    )
    local = [(commune, "commune")] if commune is not None else []
    return local + [(a, "intercommunalite") for (a,) in rows if a != commune]


def _services() -> Select[int, str, int, str]:
    return (
        select(Service.id, Service.name, Authority.id.label("aid"), Authority.name)
        .join(Authority, Authority.id == Service.authority_id)
        .where(holds_ground())
    )


def _like(q: str) -> str:
    """A LIKE pattern that matches `q` anywhere, its own % and _ taken literally."""
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _grouped(rows: Any, relation_of: dict[int, str], order: list[int]) -> list[TransferGroup]:
    groups: dict[int, TransferGroup] = {}
    for sid, name, aid, authority in rows:
        group = groups.get(aid)
        if group is None:
            group = groups[aid] = TransferGroup(
                authority_id=aid, authority=authority,
                relation=cast(Relation, relation_of.get(aid, "autre")), services=[],
            )  # fmt: skip
        group.services.append(TransferService(id=sid, name=name))
    rank = {aid: i for i, aid in enumerate(order)}
    return sorted(groups.values(), key=lambda g: (rank.get(g.authority_id, len(rank)), g.authority))


async def candidates(
    *, session: AsyncSession, signalement_id: int, actor: Actor, q: str | None = None
) -> TransferCandidates:
    """The services that can take the ticket (its commune's and intercommunalities'),
    grouped by authority; with `q`, the services anywhere whose name or authority's
    name contains it (accents and case ignored), local ones first."""
    sig = await session.get(Signalement, signalement_id)
    if sig is None:
        raise NotFound(f"Signalement n° {signalement_id} introuvable.")
    if not is_staff(actor, sig):
        raise Forbidden(NOT_STAFF)
    local = await _local_authorities(session, sig.commune_insee)
    relation_of = dict((aid, rel) for aid, rel in reversed(local))
    query = _services().where(Service.id != sig.service_id)
    text = (q or "").strip()
    if text:
        pattern = func.unaccent(_like(text))
        query = query.where(
            or_(
                func.unaccent(Service.name).ilike(pattern, escape="\\"),
                func.unaccent(Authority.name).ilike(pattern, escape="\\"),
            )
        )
        local_first = Authority.id.in_([a for a, _ in local]).desc()
        query = query.order_by(local_first, Authority.name, Service.name).limit(SEARCH_LIMIT)
    else:
        query = query.where(Authority.id.in_([a for a, _ in local])).order_by(Service.name)
    rows = (await session.execute(query)).all()
    groups = _grouped(rows, relation_of, [a for a, _ in local])
    return TransferCandidates(query=text or None, groups=groups, limit=SEARCH_LIMIT)
