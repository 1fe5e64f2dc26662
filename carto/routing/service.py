"""Reading categories and services; keyword-only session, no FastAPI."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from carto.routing.decision import RoutingDecision
from carto.routing.models import Category, Service
from carto.routing.schemas import (
    AuthorityRef,
    CategoryPublic,
    DecisionPublic,
    Named,
    ServiceAdmin,
    ServiceRef,
)
from carto.territories.models import Authority


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
    return [
        ServiceAdmin(
            id=svc.id,
            authority_id=svc.authority_id,
            authority=name,
            slug=svc.slug,
            name=svc.name,
            email=svc.email,
            webhook_url=svc.webhook_url,
        )
        for svc, name in rows
    ]


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
            ServiceRef(id=i.service_id, name=i.service_name, authority=i.authority_name)
            for i in d.informed
        ],
        street=d.street_name,
        road_class=d.street_road_class,
        explanation=d.explanation,
    )


async def directory(*, session: AsyncSession) -> list[ServiceRef]:
    """Every service with its authority's name (no contact details)."""
    rows = await session.execute(
        select(Service.id, Service.name, Authority.name)
        .join(Authority, Authority.id == Service.authority_id)
        .order_by(Authority.name, Service.name)
    )
    return [ServiceRef(id=i, name=name, authority=authority) for i, name, authority in rows]
