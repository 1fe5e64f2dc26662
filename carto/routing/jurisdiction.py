"""The categories an authority really receives (Open311 `services.json?jurisdiction_id=`):
those for which the rules in force designate it somewhere on its ground, whether by its
own rules and services or, for an authority without Carto, by the national defaults
that reach its front desk by e-mail.

Computed by the routing code itself (`ruleset.candidates_for`) so the list and the
routing cannot disagree. Communes that the rules cannot tell apart (same département,
same intercommunalities, no rule of their own, not the authority itself) are asked
once: a région of 5,000 communes is a few hundred questions.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from carto.routing.resolution import ruleset_async
from carto.routing.ruleset import RuleSet, candidates_for

GROUND_SQL = {
    "commune": "SELECT insee, departement, authority_id FROM commune WHERE insee = :code",
    "intercommunalite": """SELECT c.insee, c.departement, c.authority_id FROM commune c
        JOIN intercommunalite_member m ON m.insee = c.insee WHERE m.siren = :code""",
    # The areas the authority holds, not its own code: one body may hold several
    # (the Collectivité européenne d'Alsace: 67 and 68; the Collectivité de Corse).
    "departement": """SELECT insee, departement, authority_id FROM commune WHERE departement IN
        (SELECT d.code FROM departement d WHERE d.authority_id = :id)""",
    "region": """SELECT insee, departement, authority_id FROM commune WHERE departement IN
        (SELECT d.code FROM departement d JOIN region r ON r.code = d.region_code
         WHERE r.authority_id = :id)""",
}
# Any other authority (a syndicate, the platform) is named by rules: their scopes' communes.
NAMED_SQL = """SELECT c.insee, c.departement, c.authority_id FROM commune c
WHERE EXISTS (SELECT 1 FROM competence_rule r WHERE r.level = 'authority'
  AND r.authority_id = :id AND (r.valid_to IS NULL OR r.valid_to > now()) AND (
      (r.scope_kind = 'commune' AND r.scope_code = c.insee)
   OR (r.scope_kind = 'departement' AND r.scope_code = c.departement)
   OR (r.scope_kind = 'intercommunalite' AND EXISTS (SELECT 1 FROM intercommunalite_member m
        WHERE m.siren = r.scope_code AND m.insee = c.insee))))"""


def _signature(rs: RuleSet, commune: dict[str, Any], own: set[str], authority_id: int) -> tuple:
    members = tuple(m.siren for m in rs.members.get(commune["insee"], []))
    mine = commune["authority_id"] == authority_id
    return (mine, commune["departement"], members,
            commune["insee"] if commune["insee"] in own or mine else None)  # fmt: skip


def received(
    rs: RuleSet, authority_id: int, communes: list[dict[str, Any]], at: datetime
) -> set[str]:
    """The category codes routed to a service of `authority_id` (its own, or its front
    desk) at one of `communes`, on any road; a rule naming it without a service to
    receive the report does not count."""
    rules = [r for by_category in rs.rules.values() for r in by_category]
    own = {r["scope_code"] for r in rules if r["scope_kind"] == "commune"}
    found: set[str] = set()
    seen: set[tuple] = set()
    for commune in communes:
        key = _signature(rs, commune, own, authority_id)
        if key in seen:
            continue
        seen.add(key)
        for code in rs.categories:
            if code not in found and any(
                c.authority_id == authority_id and c.service_id is not None
                for c in candidates_for(rs, commune, code, at)
            ):
                found.add(code)
    found.update(  # named nationwide: no commune needed to say so
        r["category_code"] for r in rules
        if r["level"] == "authority" and r["authority_id"] == authority_id
        and r["scope_kind"] == "everywhere" and r["category_code"] in rs.categories
        and (r["valid_to"] is None or r["valid_to"] > at)
    )  # fmt: skip
    return found


async def categories_received(*, session: AsyncSession, authority_id: int) -> set[str]:
    """What `authority_id` receives today, from the cached rule set (routing's session)."""
    version = (
        await session.execute(text("SELECT v.version::text FROM routing_version v"))
    ).scalar()
    rs = await ruleset_async(session, version)
    found = await _ground(session, authority_id)
    if found is None:
        return set()
    sql, params = found
    communes = [dict(r) for r in (await session.execute(text(sql), params)).mappings()]
    return received(rs, authority_id, communes, datetime.now(UTC))


async def _ground(session: AsyncSession, authority_id: int) -> tuple[str, dict[str, Any]] | None:
    """The SQL listing the authority's ground (insee, departement, authority_id), and its
    parameters; None for an unknown authority."""
    row = (
        await session.execute(
            text("SELECT kind, code FROM authority WHERE id = :id"), {"id": authority_id}
        )
    ).one_or_none()
    if row is None:
        return None
    return GROUND_SQL.get(row.kind, NAMED_SQL), {"code": row.code, "id": authority_id}


async def ground_communes(*, session: AsyncSession, authority_id: int) -> list[str]:
    """The INSEE codes of the communes on the authority's ground: the same ground that
    `on_ground` accepts a report on, so that reading a jurisdiction's requests finds
    every report it accepted (Open311 `requests.json?jurisdiction_id=`)."""
    found = await _ground(session, authority_id)
    if found is None:
        return []
    sql, params = found
    return list((await session.execute(text(f"SELECT g.insee FROM ({sql}) g"), params)).scalars())  # noqa: S608


async def on_ground(*, session: AsyncSession, authority_id: int, insee: str) -> bool:
    """Whether the commune `insee` lies on the authority's ground (its commune, member
    communes, département, région, or the scopes of the rules naming it)."""
    found = await _ground(session, authority_id)
    if found is None:
        return False
    sql, params = found
    exists = await session.execute(
        text(f"SELECT EXISTS (SELECT 1 FROM ({sql}) g WHERE g.insee = :insee)"),  # noqa: S608
        {**params, "insee": insee},
    )
    return bool(exists.scalar())
