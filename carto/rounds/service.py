"""Crew rounds: who may plan one, the depot, the tickets, and the plan as the API gives it.

A round is computed on demand and not stored: it depends only on the tickets, the
start and the streets, and takes well under a second. Only the depot is stored.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from carto.errors import Forbidden, InvalidInput, NotFound
from carto.rounds.graph import GraphStore
from carto.rounds.models import ServiceDepot
from carto.rounds.plan import Point, plan_round
from carto.rounds.schemas import (
    DepotIn,
    DepotPublic,
    LineString,
    LonLat,
    RoundIn,
    RoundPublic,
    RoundStop,
    SetApartStop,
)
from carto.routing.models import Service


class Actor(Protocol):
    @property
    def user_id(self) -> int: ...

    def is_agent_of(self, service_id: int) -> bool: ...
    def is_admin_of(self, authority_id: int) -> bool: ...


TICKETS = text(
    """SELECT s.id, s.service_id, s.status, c.label AS category, s.description,
              coalesce(s.address_string, s.street_name) AS address,
              ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat
       FROM signalement s JOIN category c ON c.code = s.category_code
       WHERE s.id = ANY(:ids)"""
)


async def _service(session: AsyncSession, service_id: int) -> Service:
    service = await session.get(Service, service_id)
    if service is None:
        raise NotFound(f"Service n° {service_id} introuvable.")
    return service


async def staff_service(*, session: AsyncSession, service_id: int, actor: Actor) -> Service:
    """The service, when the caller is one of its agents or an administrator of its
    authority (403 otherwise)."""
    service = await _service(session, service_id)
    if not (actor.is_agent_of(service.id) or actor.is_admin_of(service.authority_id)):
        raise Forbidden(
            "Seuls les agents du service et ses administrateurs préparent ses tournées."
        )
    return service


async def get_depot(*, session: AsyncSession, service_id: int, actor: Actor) -> DepotPublic | None:
    await staff_service(session=session, service_id=service_id, actor=actor)
    row = (
        await session.execute(
            text("SELECT name, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM service_depot"
                 " WHERE service_id = :s"),
            {"s": service_id},
        )
    ).first()  # fmt: skip
    if row is None:
        return None
    return DepotPublic(service_id=service_id, name=row.name, lon=row.lon, lat=row.lat)


async def set_depot(
    *, session: AsyncSession, service_id: int, actor: Actor, data: DepotIn
) -> DepotPublic:
    """Administrators of the service's authority place its depot."""
    service = await _service(session, service_id)
    if not actor.is_admin_of(service.authority_id):
        raise Forbidden("Seuls les administrateurs de la collectivité placent le dépôt.")
    depot = await session.get(ServiceDepot, service_id)
    if depot is None:
        depot = ServiceDepot(service_id=service_id, authority_id=service.authority_id)
        session.add(depot)
    depot.name = data.name.strip()
    depot.geom = f"SRID=4326;POINT({data.lon} {data.lat})"  # type: ignore[assignment]
    depot.updated_by = actor.user_id
    await session.commit()
    return DepotPublic(service_id=service_id, name=depot.name, lon=data.lon, lat=data.lat)


def _numbers(ids: list[int]) -> str:
    return ", ".join(f"n° {i}" for i in ids)


async def _tickets(session: AsyncSession, service_id: int, ids: list[int]) -> dict[int, dict]:  # type: ignore[type-arg]
    """The open tickets of the service, by id; anything else is a clear 422."""
    rows = {r.id: r._asdict() for r in (await session.execute(TICKETS, {"ids": ids})).all()}
    missing = [i for i in ids if i not in rows]
    if missing:
        raise InvalidInput(f"Signalements introuvables : {_numbers(missing)}.")
    other = [i for i in ids if rows[i]["service_id"] != service_id]
    if other:
        raise InvalidInput(f"Ces signalements ne sont pas dans ce service : {_numbers(other)}.")
    closed = [i for i in ids if rows[i]["status"] != "open"]
    if closed:
        raise InvalidInput(f"Ces signalements sont clos : {_numbers(closed)}.")
    return rows


async def plan(
    *, session: AsyncSession, store: GraphStore, service_id: int, actor: Actor, data: RoundIn
) -> RoundPublic:
    """The round through the chosen tickets, ordered along the streets."""
    await staff_service(session=session, service_id=service_id, actor=actor)
    ids = list(dict.fromkeys(data.signalement_ids))
    tickets = await _tickets(session, service_id, ids)
    if data.start is not None:
        start, start_name = data.start, "Point de départ choisi"
    else:
        depot = await get_depot(session=session, service_id=service_id, actor=actor)
        if depot is None:
            raise InvalidInput(
                "Ce service n'a pas de dépôt : choisissez un point de départ, ou demandez à "
                "un administrateur de placer le dépôt."
            )
        start, start_name = LonLat(lon=depot.lon, lat=depot.lat), depot.name
    graph = await store.current(session=session)
    points = [Point(i, tickets[i]["lon"], tickets[i]["lat"]) for i in ids]
    result = await asyncio.to_thread(
        plan_round,
        graph,
        Point(0, start.lon, start.lat),
        points,
        speed_mps=data.speed_kmh / 3.6,
        stop_s=data.stop_minutes * 60.0,
        budget_s=data.budget_minutes * 60.0 if data.budget_minutes else None,
    )
    stops = [
        RoundStop(
            rank=s.rank, signalement_id=s.id, category=tickets[s.id]["category"],
            address=tickets[s.id]["address"], description=tickets[s.id]["description"],
            location=LonLat(lon=tickets[s.id]["lon"], lat=tickets[s.id]["lat"]),
            leg_m=round(s.leg_m, 1), cumulative_m=round(s.cumulative_m, 1),
            eta_minutes=round(s.eta_s / 60, 1), distance_to_street_m=round(s.snap_m, 1),
        )
        for s in result.stops
    ]  # fmt: skip
    apart = [
        SetApartStop(
            signalement_id=a.id, reason=a.reason, message=a.message,  # type: ignore[arg-type]
            category=tickets[a.id]["category"], address=tickets[a.id]["address"],
            location=LonLat(lon=tickets[a.id]["lon"], lat=tickets[a.id]["lat"]),
        )
        for a in result.set_apart
    ]  # fmt: skip
    return RoundPublic(
        service_id=service_id,
        start=start,
        start_name=start_name,
        stops=stops,
        set_apart=apart,
        route=LineString(coordinates=result.coordinates),
        distance_m=round(result.distance_m, 1),
        baseline_distance_m=round(result.baseline_m, 1),
        duration_minutes=round(result.duration_s / 60, 1),
        budget_minutes=data.budget_minutes,
    )
