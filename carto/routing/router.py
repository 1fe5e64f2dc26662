"""`/api/v1/categories` (public) and `/api/v1/admin/services` (administrators)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from carto.accounts.deps import Principal, require_role
from carto.db import SessionDep
from carto.routing import service
from carto.routing.schemas import CategoryPublic, ServiceAdmin

router = APIRouter(tags=["routage"])


@router.get("/categories", response_model=list[CategoryPublic])
async def categories(session: SessionDep) -> list[CategoryPublic]:
    """The categories a citizen can report, in display order."""
    return await service.list_categories(session=session)


@router.get("/admin/services", response_model=list[ServiceAdmin])
async def admin_services(
    session: SessionDep, principal: Annotated[Principal, Depends(require_role("admin"))]
) -> list[ServiceAdmin]:
    """The services of the authorities the caller administers, with their contacts."""
    return await service.list_services(session=session, authority_ids=principal.admin_authority_ids)
