"""Reading categories and services; keyword-only session, no FastAPI."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from carto.routing.models import Category, Service
from carto.routing.schemas import CategoryPublic, ServiceAdmin
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
