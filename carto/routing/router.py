"""Categories (public), services and the competence table (administrators)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from carto.accounts.deps import Principal, require_role
from carto.deps import SessionDep
from carto.routing import competences, service
from carto.routing.resolution import resolve
from carto.routing.schemas import (
    CategoryPublic,
    DecisionPublic,
    RuleCreate,
    RulePublic,
    RuleUpdate,
    ServiceAdmin,
    ServiceCreate,
    ServiceRef,
    ServiceUpdate,
)
from carto.routing.service import decision_public

router = APIRouter(tags=["routage"])
AdminPrincipal = Annotated[Principal, Depends(require_role("admin"))]


@router.get("/categories", response_model=list[CategoryPublic])
async def categories(session: SessionDep) -> list[CategoryPublic]:
    """The categories a citizen can report, in display order."""
    return await service.list_categories(session=session)


@router.get("/admin/services", response_model=list[ServiceAdmin])
async def admin_services(session: SessionDep, principal: AdminPrincipal) -> list[ServiceAdmin]:
    """The services of the authorities the caller administers, with their contacts."""
    return await service.list_services(session=session, authority_ids=principal.admin_authority_ids)


@router.post("/admin/services", response_model=ServiceAdmin, status_code=201)
async def create_service(
    session: SessionDep, principal: AdminPrincipal, data: ServiceCreate
) -> ServiceAdmin:
    """Add a service to an authority the caller administers."""
    return await service.create_service(
        session=session, data=data, admin_of=principal.admin_authority_ids
    )


@router.patch("/admin/services/{service_id}", response_model=ServiceAdmin)
async def update_service(
    session: SessionDep,
    principal: AdminPrincipal,
    service_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    data: ServiceUpdate,
) -> ServiceAdmin:
    """Rename a service or change its e-mail or webhook."""
    return await service.update_service(
        session=session, service_id=service_id, data=data, admin_of=principal.admin_authority_ids
    )


@router.get("/routing/preview", response_model=DecisionPublic)
async def preview(
    session: SessionDep,
    lon: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
    service_code: Annotated[str, Query(min_length=1, max_length=40)],
) -> DecisionPublic:
    """Who would receive a report here, before it is sent (the form shows the sentence)."""
    decision = await resolve(session=session, lon=lon, lat=lat, category_code=service_code)
    return decision_public(decision)


@router.get("/admin/competences", response_model=list[RulePublic])
async def list_competences(
    session: SessionDep,
    principal: AdminPrincipal,
    category: Annotated[str | None, Query(max_length=40)] = None,
    include_closed: bool = False,
) -> list[RulePublic]:
    """The competence rules concerning the caller's authorities (current ones by default)."""
    return await competences.list_rules(
        session=session,
        admin_of=principal.admin_authority_ids,
        category=category,
        include_closed=include_closed,
    )


@router.post("/admin/competences", response_model=RulePublic, status_code=201)
async def create_competence(
    session: SessionDep, principal: AdminPrincipal, data: RuleCreate
) -> RulePublic:
    """Add a rule for a territory the caller administers."""
    return await competences.create_rule(
        session=session,
        data=data,
        user_id=principal.user_id,
        admin_of=principal.admin_authority_ids,
    )


@router.patch("/admin/competences/{rule_id}", response_model=RulePublic)
async def update_competence(
    session: SessionDep, principal: AdminPrincipal, rule_id: int, data: RuleUpdate
) -> RulePublic:
    """A new version of the rule from `valid_from` (default now); the old one is closed."""
    return await competences.update_rule(
        session=session,
        rule_id=rule_id,
        data=data,
        user_id=principal.user_id,
        admin_of=principal.admin_authority_ids,
    )


@router.delete("/admin/competences/{rule_id}", response_model=RulePublic)
async def close_competence(
    session: SessionDep, principal: AdminPrincipal, rule_id: int
) -> RulePublic:
    """Withdraw the rule from now on (tickets it routed keep it)."""
    return await competences.close_rule(
        session=session, rule_id=rule_id, admin_of=principal.admin_authority_ids
    )


@router.get("/services", response_model=list[ServiceRef])
async def services_directory(
    session: SessionDep, principal: Annotated[Principal, Depends(require_role("agent", "admin"))]
) -> list[ServiceRef]:
    """Every service, for staff sending a ticket on to another service."""
    return await service.directory(session=session)
