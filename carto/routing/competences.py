"""Administrators edit the competence table: every change is a new version of a rule.

A rule concerns the authorities whose territory it covers (the intercommunality
of an intercommunality scope; the commune, and the intercommunalities it belongs
to, of a commune scope; the département) and the authority it names. Only their
administrators may change it; nationwide rules come from the deployment file.
Editing closes the old version at the new one's start, so tickets keep theirs.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from carto.errors import Conflict, Forbidden, InvalidInput, NotFound
from carto.routing.models import Category, CompetenceRule
from carto.routing.schemas import InformTarget, RuleCreate, RulePublic, RuleUpdate
from carto.territories.models import Authority
from carto.validation_fr import french_message

CONCERNED_SQL = text(
    """
    SELECT a.id FROM authority a
    WHERE (:scope_kind = 'intercommunalite' AND a.kind = 'intercommunalite'
           AND a.code = :scope_code)
       OR (:scope_kind = 'commune' AND a.kind = 'commune' AND a.code = :scope_code)
       OR (:scope_kind = 'commune' AND a.id IN (
              SELECT i.authority_id FROM intercommunalite_member m
              JOIN intercommunalite i ON i.siren = m.siren WHERE m.insee = :scope_code))
       OR (:scope_kind = 'departement' AND a.id IN (
              SELECT d.authority_id FROM departement d WHERE d.code = :scope_code))
       OR a.id = :authority_id
    """
)
# The départements' authorities over a scope's communes: who a `departement` level names.
DEPARTEMENTS_SQL = text(
    """
    SELECT DISTINCT d.authority_id FROM departement d
    WHERE (:scope_kind = 'departement' AND d.code = :scope_code)
       OR (:scope_kind = 'commune' AND d.code = (
              SELECT c.departement FROM commune c WHERE c.insee = :scope_code))
       OR (:scope_kind = 'intercommunalite' AND d.code IN (
              SELECT c.departement FROM commune c JOIN intercommunalite_member m
              ON m.insee = c.insee WHERE m.siren = :scope_code))
    """
)

SCOPE_EXISTS_SQL = {
    "intercommunalite": "SELECT 1 FROM intercommunalite WHERE siren = :code",
    "commune": "SELECT 1 FROM commune WHERE insee = :code",
    "departement": "SELECT 1 FROM commune WHERE departement = :code LIMIT 1",
}


async def concerned_authorities(
    *, session: AsyncSession, scope_kind: str, scope_code: str | None, authority_id: int | None
) -> set[int]:
    """The authorities whose administrators may change a rule of this scope."""
    rows = await session.execute(
        CONCERNED_SQL,
        {"scope_kind": scope_kind, "scope_code": scope_code or "", "authority_id": authority_id},
    )
    return {int(r[0]) for r in rows}


async def _check_admin(
    session: AsyncSession,
    rule: CompetenceRule | RuleCreate,
    admin_of: Collection[int],
    *,
    handler: bool = True,
    kept: Collection[int] = (),
) -> None:
    """The caller administers an authority of the rule's territory (naming oneself the
    handler gives no right on another territory), and, with `handler`, the authority the
    rule hands the tickets to: a rule may not take tickets from, or push them onto, an
    authority the caller does not run (nor its notifications: `_check_informed`)."""
    if rule.scope_kind == "everywhere":
        raise Forbidden(
            "Les règles valables partout viennent du fichier de déploiement ; "
            "elles ne se modifient pas par l'API."
        )
    concerned = await concerned_authorities(
        session=session, scope_kind=rule.scope_kind, scope_code=rule.scope_code, authority_id=None
    )
    if not concerned.intersection(admin_of):
        raise Forbidden("Vous n'administrez aucune collectivité concernée par cette règle.")
    if handler and rule.authority_id is not None and rule.authority_id not in admin_of:
        raise Forbidden(
            "Vous n'administrez pas la collectivité à qui cette règle confie les signalements."
        )
    if handler and rule.level == "departement":
        await _check_departement(session, rule, admin_of)
    if handler:
        await _check_informed(session, rule, admin_of, concerned, kept=kept)


def _named_informed(rule: CompetenceRule | RuleCreate) -> set[int]:
    """The authorities a rule's `inform` names (level `authority`)."""
    items = [t if isinstance(t, dict) else t.model_dump() for t in rule.inform or []]
    return {int(t["authority_id"]) for t in items if t.get("authority_id") is not None}


async def _check_informed(
    session: AsyncSession, rule: CompetenceRule | RuleCreate, admin_of: Collection[int],
    concerned: set[int], *, kept: Collection[int] = (),
) -> None:  # fmt: skip
    """A rule may inform, by name, only the authorities of its territory (the commune,
    its intercommunalities, its département), those the caller runs, or those the
    version it replaces already named: each ticket e-mails and posts to the webhook of
    the informed service, and another authority's integration is not the caller's."""
    named = _named_informed(rule) - set(admin_of) - concerned - set(kept)
    if not named:
        return
    rows = await session.execute(
        DEPARTEMENTS_SQL, {"scope_kind": rule.scope_kind, "scope_code": rule.scope_code or ""}
    )
    if named - {int(r[0]) for r in rows}:
        raise Forbidden(
            "Une règle ne peut informer nommément que les collectivités de son territoire "
            "ou celles que vous administrez."
        )


async def _check_departement(
    session: AsyncSession, rule: CompetenceRule | RuleCreate, admin_of: Collection[int]
) -> None:
    """A `departement` rule hands tickets to the département of its ground: it must be
    loaded there, and the caller must administer it (every one, for an EPCI spanning
    several)."""
    rows = await session.execute(
        DEPARTEMENTS_SQL, {"scope_kind": rule.scope_kind, "scope_code": rule.scope_code or ""}
    )
    found = {int(r[0]) for r in rows}
    if not found:
        raise InvalidInput(
            f"Aucun département n'est chargé pour le territoire « {rule.scope_code} » : "
            "le niveau « département » n'y désigne personne (`carto import france`)."
        )
    if not found <= set(admin_of):
        raise Forbidden(
            "Vous n'administrez pas le département à qui cette règle confie les signalements."
        )


async def _check_references(session: AsyncSession, data: RuleCreate) -> None:
    if await session.get(Category, data.category) is None:
        raise InvalidInput(f"Catégorie inconnue : « {data.category} ».")
    if data.scope_kind != "everywhere":
        found = await session.scalar(
            text(SCOPE_EXISTS_SQL[data.scope_kind]), {"code": data.scope_code}
        )
        if found is None:
            raise InvalidInput(f"Territoire inconnu : {data.scope_kind} « {data.scope_code} ».")
    named = [data.authority_id, *(t.authority_id for t in data.inform)]
    for authority_id in {a for a in named if a is not None}:
        if await session.get(Authority, authority_id) is None:
            raise InvalidInput(f"Collectivité inconnue : {authority_id}.")


def _inform_json(targets: list[InformTarget]) -> list[dict[str, Any]]:
    return [t.model_dump() for t in targets]


async def rule_public(session: AsyncSession, rule: CompetenceRule) -> RulePublic:
    name = None
    if rule.authority_id is not None:
        name = await session.scalar(select(Authority.name).where(Authority.id == rule.authority_id))
    now = datetime.now(UTC)
    return RulePublic(
        id=rule.id,
        category=rule.category_code,
        level=rule.level,
        authority_id=rule.authority_id,
        authority=name,
        scope_kind=rule.scope_kind,
        scope_code=rule.scope_code,
        road_class=rule.road_class,
        service_slug=rule.service_slug or rule.category_code,
        inform=list(rule.inform or []),
        valid_from=rule.valid_from,
        valid_to=rule.valid_to,
        active=(rule.valid_from is None or rule.valid_from <= now)
        and (rule.valid_to is None or rule.valid_to > now),
        source=rule.source,
        note=rule.note,
        replaces_id=rule.replaces_id,
    )


async def list_rules(
    *,
    session: AsyncSession,
    admin_of: Collection[int],
    category: str | None = None,
    include_closed: bool = False,
) -> list[RulePublic]:
    """The rules that concern the caller's authorities, current ones unless asked."""
    query = select(CompetenceRule).order_by(
        CompetenceRule.category_code, CompetenceRule.scope_kind, CompetenceRule.id
    )
    if category:
        query = query.where(CompetenceRule.category_code == category)
    if not include_closed:
        query = query.where(
            (CompetenceRule.valid_to.is_(None)) | (CompetenceRule.valid_to > datetime.now(UTC))
        )
    out = []
    for rule in await session.scalars(query):
        concerned = await concerned_authorities(
            session=session,
            scope_kind=rule.scope_kind,
            scope_code=rule.scope_code,
            authority_id=rule.authority_id,
        )
        if concerned.intersection(admin_of):
            out.append(await rule_public(session, rule))
    return out


async def create_rule(
    *, session: AsyncSession, data: RuleCreate, user_id: int, admin_of: Collection[int]
) -> RulePublic:
    """Add a rule (from `valid_from`, default now)."""
    await _check_references(session, data)
    await _check_admin(session, data, admin_of)
    start = data.valid_from or datetime.now(UTC)
    if data.valid_to is not None and data.valid_to <= start:
        raise InvalidInput("La fin de validité doit suivre le début.")
    rule = CompetenceRule(
        category_code=data.category,
        level=data.level,
        authority_id=data.authority_id,
        scope_kind=data.scope_kind,
        scope_code=data.scope_code,
        road_class=data.road_class,
        service_slug=data.service_slug,
        inform=_inform_json(data.inform),
        valid_from=start,
        valid_to=data.valid_to,
        source="admin",
        note=data.note,
        created_by=user_id,
    )
    session.add(rule)
    await session.flush()
    public = await rule_public(session, rule)
    await session.commit()
    return public


async def _open_rule(session: AsyncSession, rule_id: int) -> CompetenceRule:
    rule = await session.get(CompetenceRule, rule_id, with_for_update=True)
    if rule is None:
        raise NotFound(f"Règle de compétence {rule_id} introuvable.")
    if rule.valid_to is not None and rule.valid_to <= datetime.now(UTC):
        raise Conflict("Cette règle n'est plus en vigueur : modifiez sa version actuelle.")
    return rule


def _merged(old: CompetenceRule, data: RuleUpdate, start: datetime) -> RuleCreate:
    """The old rule with the update's fields over it (validated as a new rule)."""
    changes = data.model_dump(exclude_unset=True)
    level = changes.get("level", old.level)
    authority_id = changes.get("authority_id", old.authority_id if level == "authority" else None)
    return RuleCreate.model_validate(
        {
            "category": old.category_code,
            "level": level,
            "authority_id": authority_id,
            "scope_kind": old.scope_kind,
            "scope_code": old.scope_code,
            "road_class": changes.get("road_class", old.road_class),
            "service_slug": changes.get("service_slug", old.service_slug),
            "inform": changes.get("inform", list(old.inform or [])),
            "valid_from": start,
            "valid_to": old.valid_to,
            "note": changes.get("note", old.note),
        }
    )


async def update_rule(
    *,
    session: AsyncSession,
    rule_id: int,
    data: RuleUpdate,
    user_id: int,
    admin_of: Collection[int],
) -> RulePublic:
    """Close the rule at `valid_from` (default now) and open its new version there."""
    old = await _open_rule(session, rule_id)
    await _check_admin(session, old, admin_of, handler=False)
    start = data.valid_from or datetime.now(UTC)
    if old.valid_from is not None and start <= old.valid_from:
        raise InvalidInput("La nouvelle version doit commencer après le début de l'actuelle.")
    if old.valid_to is not None and start >= old.valid_to:
        raise InvalidInput("La nouvelle version doit commencer avant la fin de l'actuelle.")
    try:
        merged = _merged(old, data, start)
    except ValidationError as exc:
        raise InvalidInput("Règle incohérente : " + french_message(exc.errors()[0])) from exc
    await _check_references(session, merged)
    await _check_admin(session, merged, admin_of, kept=_named_informed(old))
    new = CompetenceRule(
        **{k: getattr(old, k) for k in ("category_code", "scope_kind", "scope_code")},
        level=merged.level,
        authority_id=merged.authority_id,
        road_class=merged.road_class,
        service_slug=merged.service_slug,
        inform=_inform_json(merged.inform),
        valid_from=start,
        valid_to=old.valid_to,
        source="admin",
        note=merged.note,
        replaces_id=old.id,
        created_by=user_id,
    )
    old.valid_to = start
    session.add(new)
    await session.flush()
    public = await rule_public(session, new)
    await session.commit()
    return public


async def close_rule(
    *, session: AsyncSession, rule_id: int, admin_of: Collection[int], at: datetime | None = None
) -> RulePublic:
    """Withdraw a rule from `at` (default now); it stays on the tickets it routed."""
    rule = await _open_rule(session, rule_id)
    await _check_admin(session, rule, admin_of, handler=False)
    end = at or datetime.now(UTC)
    if rule.valid_from is not None and end <= rule.valid_from:
        raise InvalidInput("La fin de validité doit suivre le début de la règle.")
    rule.valid_to = end
    await session.flush()
    public = await rule_public(session, rule)
    await session.commit()
    return public
