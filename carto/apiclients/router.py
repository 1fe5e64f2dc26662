"""Administrators manage their authority's API clients at `/api/v1/admin/api-clients`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from carto.accounts.deps import Principal, require_role
from carto.apiclients import service
from carto.apiclients.schemas import ApiClientCreate, ApiClientCreated, ApiClientPublic
from carto.deps import SessionDep

router = APIRouter(prefix="/admin/api-clients", tags=["clients d'API"])
AdminPrincipal = Annotated[Principal, Depends(require_role("admin"))]


@router.post("", response_model=ApiClientCreated, status_code=201)
async def create_api_client(
    session: SessionDep, principal: AdminPrincipal, data: ApiClientCreate
) -> ApiClientCreated:
    """A new Open311 key for an authority the caller administers; the key is shown once."""
    public, key = await service.create_client(
        session=session, data=data, admin_of=principal.admin_authority_ids,
        created_by=principal.user_id,
    )  # fmt: skip
    return ApiClientCreated(**public.model_dump(), key=key)


@router.get("", response_model=list[ApiClientPublic])
async def list_api_clients(session: SessionDep, principal: AdminPrincipal) -> list[ApiClientPublic]:
    """The clients of the caller's authorities, without their keys."""
    return await service.list_clients(session=session, admin_of=principal.admin_authority_ids)


@router.post("/{client_id}/revoke", response_model=ApiClientPublic)
async def revoke_api_client(
    session: SessionDep,
    principal: AdminPrincipal,
    client_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
) -> ApiClientPublic:
    """Revoke a key at once (idempotent); Open311 refuses it from then on."""
    return await service.revoke_client(
        session=session, client_id=client_id, admin_of=principal.admin_authority_ids
    )
