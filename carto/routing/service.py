"""Reading categories and services; keyword-only session, no FastAPI."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from carto.errors import Conflict, Forbidden, InvalidInput, NotFound
from carto.geo import slugify
from carto.routing.decision import RoutingDecision
from carto.routing.models import Category, Service
from carto.routing.schemas import (
    AuthorityRef,
    CategoryPublic,
    DecisionPublic,
    InformedRef,
    Named,
    ServiceAdmin,
    ServiceCreate,
    ServiceRef,
    ServiceUpdate,
)
from carto.territories.models import Authority
from carto.territories.national_models import holds_ground


async def list_categories(*, session: AsyncSession) -> list[CategoryPublic]:
    rows = await session.scalars(
        select(Category).where(Category.active).order_by(Category.sort_order, Category.code)
    )
    return [CategoryPublic.model_validate(row) for row in rows]


async def list_services(
    *, session: AsyncSession, authority_ids: Collection[int]
) -> list[ServiceAdmin]:
    """Services of the given authorities, with their contacts."""
    rows = await session.execute(
        select(Service, Authority.name)
        .join(Authority, Authority.id == Service.authority_id)
        .where(Service.authority_id.in_(list(authority_ids)))
        .order_by(Authority.name, Service.slug)
    )
    return [_admin_view(svc, name) for svc, name in rows]


def _admin_view(svc: Service, authority: str) -> ServiceAdmin:
    return ServiceAdmin(
        id=svc.id,
        authority_id=svc.authority_id,
        authority=authority,
        slug=svc.slug,
        name=svc.name,
        email=svc.email,
        webhook_url=svc.webhook_url,
    )


NOT_YOURS = "Vous n'administrez pas la collectivité de ce service."


async def create_service(
    *, session: AsyncSession, data: ServiceCreate, admin_of: Collection[int]
) -> ServiceAdmin:
    """A new service of an authority the caller administers (slug unique per authority)."""
    authority = await session.get(Authority, data.authority_id)
    if authority is None:
        raise InvalidInput(f"Collectivité inconnue : {data.authority_id}.")
    if authority.id not in admin_of:
        raise Forbidden(NOT_YOURS)
    slug = data.slug or slugify(data.name)[:80]
    if not slug:
        raise InvalidInput("Donnez un nom de service fait de lettres ou de chiffres.")
    taken = await session.scalar(
        select(Service.id).where(Service.authority_id == authority.id, Service.slug == slug)
    )
    if taken is not None:
        raise Conflict(f"La collectivité a déjà un service « {slug} ».")
    svc = Service(
        authority_id=authority.id,
        slug=slug,
        name=data.name.strip(),
        email=str(data.email) if data.email else None,
        webhook_url=data.webhook_url,
    )
    session.add(svc)
    await session.commit()
    return _admin_view(svc, authority.name)


async def update_service(
    *, session: AsyncSession, service_id: int, data: ServiceUpdate, admin_of: Collection[int]
) -> ServiceAdmin:
    """Rename a service or change where its tickets are announced (the slug stays:
    competence rules name it)."""
    svc = await session.get(Service, service_id)
    if svc is None:
        raise NotFound(f"Service n° {service_id} introuvable.")
    if svc.authority_id not in admin_of:
        raise Forbidden(NOT_YOURS)
    changes = data.model_dump(exclude_unset=True)
    if "name" in changes:
        if data.name is None:
            raise InvalidInput("Le nom du service ne peut pas être vide.")
        svc.name = data.name.strip()
    if "email" in changes:
        svc.email = str(data.email) if data.email else None
    if "webhook_url" in changes:
        svc.webhook_url = data.webhook_url
    await session.commit()
    authority = await session.scalar(select(Authority.name).where(Authority.id == svc.authority_id))
    return _admin_view(svc, str(authority))


def decision_public(d: RoutingDecision) -> DecisionPublic:
    """A decision as the API shows it."""
    return DecisionPublic(
        service_code=d.category_code,
        category=d.category_label,
        commune=Named(code=d.commune_insee, nom=d.commune_nom),
        arrondissement=(
            Named(code=d.arrondissement_insee, nom=d.arrondissement_nom or "")
            if d.arrondissement_insee
            else None
        ),
        intercommunalite=(
            Named(code=d.intercommunalite_siren, nom=d.intercommunalite_nom or "")
            if d.intercommunalite_siren
            else None
        ),
        level=d.level,
        rule_id=d.rule_id,
        authority=AuthorityRef(id=d.authority_id, name=d.authority_name),
        service=ServiceRef(id=d.service_id, name=d.service_name, authority=d.authority_name),
        informed=[
            InformedRef(
                id=i.service_id, name=i.service_name, authority=i.authority_name, reason=i.reason
            )
            for i in d.informed
        ],
        street=d.street_name,
        road_class=d.street_road_class,
        explanation=d.explanation,
        rule_status=d.rule_status,
        legal_basis=d.legal_basis,
        delivery=d.delivery,
    )


async def directory(*, session: AsyncSession) -> list[ServiceRef]:
    """Every service with its authority's name (no contact details)."""
    rows = await session.execute(
        select(Service.id, Service.name, Authority.name)
        .join(Authority, Authority.id == Service.authority_id)
        .where(holds_ground())
        .order_by(Authority.name, Service.name)
    )
    return [ServiceRef(id=i, name=name, authority=authority) for i, name, authority in rows]
