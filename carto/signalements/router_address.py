"""A ticket's address for its staff: correct it, and the reports around it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from carto.accounts.deps import CurrentPrincipal
from carto.deps import SessionDep
from carto.signalements import address, service
from carto.signalements.schemas import AddressIn, Around, SignalementStaff

router = APIRouter(tags=["signalements"])


@router.put("/signalements/{signalement_id}/address", response_model=SignalementStaff)
async def correct_address(
    session: SessionDep, principal: CurrentPrincipal, signalement_id: int, data: AddressIn
) -> SignalementStaff:
    """Replace the ticket's address (its service's agents, its authority's admins; 403
    for anyone else); the history says so. Answers the staff page."""
    await address.correct(
        session=session, signalement_id=signalement_id, actor=principal, data=data
    )
    return await service.get_staff(session=session, signalement_id=signalement_id)


@router.get("/signalements/{signalement_id}/around", response_model=list[Around])
async def around(
    session: SessionDep,
    principal: CurrentPrincipal,
    signalement_id: int,
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
) -> list[Around]:
    """The nearest other reports within a kilometre, nearest first, with their distance."""
    return await address.around(
        session=session, signalement_id=signalement_id, actor=principal, limit=limit
    )
