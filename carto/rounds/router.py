"""Crew rounds (`/api/v1/services/{id}/…`): the depot, the round as JSON, GPX and HTML.

The GPX and HTML forms are GETs with the round in the query string, so a phone or a
browser can open them as plain links; they recompute the same round.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from carto.accounts.deps import CurrentPrincipal
from carto.db import SessionDep
from carto.errors import InvalidInput
from carto.rounds import export, service
from carto.rounds.graph import GraphStore
from carto.rounds.schemas import MAX_STOPS, DepotIn, DepotPublic, RoundIn, RoundPublic

router = APIRouter(tags=["tournées"])
PARIS = ZoneInfo("Europe/Paris")


def graph_store(request: Request) -> GraphStore:
    """The process's street graph, created on first use (one per app)."""
    store = getattr(request.app.state, "street_graph", None)
    if store is None:
        store = GraphStore(request.app.state.settings.data_dir)
        request.app.state.street_graph = store
    return store


@router.get("/services/{service_id}/depot", response_model=DepotPublic | None)
async def get_depot(
    service_id: int, session: SessionDep, principal: CurrentPrincipal
) -> DepotPublic | None:
    """The service's depot (null when none is placed yet)."""
    return await service.get_depot(session=session, service_id=service_id, actor=principal)


@router.put("/services/{service_id}/depot", response_model=DepotPublic)
async def put_depot(
    service_id: int, data: DepotIn, session: SessionDep, principal: CurrentPrincipal
) -> DepotPublic:
    """Place the service's depot (administrators of its authority)."""
    return await service.set_depot(
        session=session, service_id=service_id, actor=principal, data=data
    )


@router.post("/services/{service_id}/rounds", response_model=RoundPublic)
async def plan_round(
    request: Request,
    service_id: int,
    data: RoundIn,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> RoundPublic:
    """Order the chosen open tickets into a round along the streets, from the depot (or
    `start`) and back; tickets it cannot reach, or that do not fit the time budget, are
    listed in `set_apart` with the reason."""
    return await service.plan(
        session=session, store=graph_store(request), service_id=service_id,
        actor=principal, data=data,
    )  # fmt: skip


async def _from_query(
    request: Request, service_id: int, session: SessionDep, principal: CurrentPrincipal,
    ids: str, start_lon: float | None, start_lat: float | None, budget_minutes: int | None,
    speed_kmh: float, stop_minutes: int,
) -> RoundPublic:  # fmt: skip
    try:
        data = RoundIn(
            signalement_ids=[int(x) for x in ids.split(",")],
            start=None if start_lon is None or start_lat is None
            else {"lon": start_lon, "lat": start_lat},  # type: ignore[arg-type]
            budget_minutes=budget_minutes, speed_kmh=speed_kmh, stop_minutes=stop_minutes,
        )  # fmt: skip
    except ValidationError as exc:
        raise InvalidInput("Paramètres de tournée invalides.", detail=str(exc)) from exc
    return await service.plan(
        session=session, store=graph_store(request), service_id=service_id,
        actor=principal, data=data,
    )  # fmt: skip


IdsQuery = Annotated[
    str,
    Query(pattern=r"^\d{1,10}(,\d{1,10})*$", max_length=MAX_STOPS * 11,
          description="numéros des signalements, séparés par des virgules"),
]  # fmt: skip


@router.get("/services/{service_id}/rounds.gpx", response_class=Response)
async def round_gpx(
    request: Request, service_id: int, session: SessionDep, principal: CurrentPrincipal,
    ids: IdsQuery, start_lon: float | None = None, start_lat: float | None = None,
    budget_minutes: int | None = None, speed_kmh: float = 15.0, stop_minutes: int = 10,
) -> Response:  # fmt: skip
    """The round as GPX 1.1 (waypoints, route, track along the streets) for a phone."""
    plan = await _from_query(
        request, service_id, session, principal, ids, start_lon, start_lat, budget_minutes,
        speed_kmh, stop_minutes,
    )  # fmt: skip
    title = f"Tournée du service n° {service_id}"
    return Response(
        export.gpx(plan, title=title),
        media_type="application/gpx+xml",
        headers={"Content-Disposition": f'attachment; filename="tournee-{service_id}.gpx"'},
    )


@router.get("/services/{service_id}/rounds.html", response_class=HTMLResponse)
async def round_html(
    request: Request, service_id: int, session: SessionDep, principal: CurrentPrincipal,
    ids: IdsQuery, start_lon: float | None = None, start_lat: float | None = None,
    budget_minutes: int | None = None, speed_kmh: float = 15.0, stop_minutes: int = 10,
) -> HTMLResponse:  # fmt: skip
    """The round as a printable French list (addresses, order, distances)."""
    plan = await _from_query(
        request, service_id, session, principal, ids, start_lon, start_lat, budget_minutes,
        speed_kmh, stop_minutes,
    )  # fmt: skip
    svc = await service.staff_service(session=session, service_id=service_id, actor=principal)
    page = export.html(plan, title="Feuille de tournée", service=svc.name, at=datetime.now(PARIS))
    return HTMLResponse(page)
