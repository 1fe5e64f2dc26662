"""Read side of the staff and the report form: the queue, nearby reports, service levels.

Staff see the tickets of their services (agents) and of their authorities'
services (administrators), nothing else. Nearby reports are measured in true
metres (geography), never in degrees or Web-Mercator units.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from carto.errors import Forbidden, InvalidInput
from carto.routing.decision import UnknownCategory
from carto.routing.models import Category, Service
from carto.signalements.address import label_of
from carto.signalements.lifecycle import Actor
from carto.signalements.models import Signalement, SignalementReporter
from carto.signalements.schemas import (
    Coded,
    Nearby,
    Point,
    Queue,
    QueueItem,
    ServiceStats,
    TransferStats,
)
from carto.signalements.states import STATES
from carto.territories.models import Commune

SUMMARY_CHARS = 200
STATE_ALIASES = {"new": ("submitted", "routed")}


def _summary(text_: str) -> str:
    return text_ if len(text_) <= SUMMARY_CHARS else text_[: SUMMARY_CHARS - 1] + "…"


async def staff_services(session: AsyncSession, actor: Actor) -> set[int]:
    """The services whose tickets the actor may see and handle."""
    ids = set(actor.service_ids)
    if actor.admin_authority_ids:
        rows = await session.scalars(
            select(Service.id).where(Service.authority_id.in_(actor.admin_authority_ids))
        )
        ids.update(rows)
    return ids


def _state_filter(states: Collection[str]) -> ColumnElement[bool]:
    wanted: set[str] = set()
    statuses: set[str] = set()
    for state in states:
        if state in ("open", "closed"):
            statuses.add(state)
        elif state in STATE_ALIASES:
            wanted.update(STATE_ALIASES[state])
        elif state in STATES:
            wanted.add(state)
        else:
            raise InvalidInput(f"État inconnu : « {state} ».")
    return or_(Signalement.state.in_(wanted), Signalement.status.in_(statuses))


SORTS: dict[str, tuple[ColumnElement[Any], ...]] = {
    "oldest": (Signalement.created_at.asc(), Signalement.id.asc()),
    "newest": (Signalement.created_at.desc(), Signalement.id.desc()),
    "deadline": (Signalement.due_at.asc(), Signalement.id.asc()),
}


def _queue_select() -> Select[Any]:
    return (
        select(
            Signalement,
            Category.label,
            Service.name.label("service"),
            Commune.nom.label("commune_nom"),
            func.ST_X(Signalement.geom).label("lon"),
            func.ST_Y(Signalement.geom).label("lat"),
        )
        .join(Category, Category.code == Signalement.category_code)
        .join(Service, Service.id == Signalement.service_id)
        .outerjoin(Commune, Commune.insee == Signalement.commune_insee)
    )


def _item(row: Any, now: datetime) -> QueueItem:
    sig: Signalement = row.Signalement
    return QueueItem(
        id=sig.id, state=sig.state, status=sig.status, service_code=sig.category_code,
        category=row.label, service_id=sig.service_id, service=row.service,
        commune=Coded(code=sig.commune_insee, nom=row.commune_nom or sig.commune_insee),
        address=label_of(sig), summary=_summary(sig.description),
        location=Point(coordinates=(float(row.lon), float(row.lat))),
        created_at=sig.created_at, due_at=sig.due_at,
        overdue=sig.status == "open" and sig.due_at < now, supports=sig.supports,
    )  # fmt: skip


async def queue(
    *, session: AsyncSession, actor: Actor, service_id: int | None = None,
    states: Collection[str] = (), category: str | None = None, commune: str | None = None,
    overdue: bool | None = None, limit: int = 50, offset: int = 0, sort: str = "oldest",
) -> Queue:  # fmt: skip
    """The actor's tickets, oldest first unless `sort` says `newest` or `deadline`
    (open ones unless states are asked for)."""
    if sort not in SORTS:
        raise InvalidInput(f"Tri inconnu : « {sort} » (oldest, newest ou deadline).")
    allowed = await staff_services(session, actor)
    if not allowed:
        raise Forbidden("La file des signalements est réservée aux agents et administrateurs.")
    if service_id is not None and service_id not in allowed:
        raise Forbidden("Vous ne traitez pas les signalements de ce service.")
    now = datetime.now(UTC)
    conditions: list[ColumnElement[bool]] = [
        Signalement.service_id.in_([service_id] if service_id is not None else allowed),
        _state_filter(states) if states else Signalement.status == "open",
    ]
    if category:
        conditions.append(Signalement.category_code == category)
    if commune:
        conditions.append(
            or_(Signalement.commune_insee == commune, Commune.nom.ilike(commune.strip() + "%"))
        )
    if overdue is not None:
        late = and_(Signalement.status == "open", Signalement.due_at < now)
        conditions.append(late if overdue else ~late)
    query = _queue_select().where(*conditions)
    total = await session.scalar(
        select(func.count()).select_from(query.with_only_columns(Signalement.id).subquery())
    )
    rows = await session.execute(query.order_by(*SORTS[sort]).limit(limit).offset(offset))
    return Queue(items=[_item(r, now) for r in rows], total=total or 0, limit=limit, offset=offset)


async def mine(*, session: AsyncSession, user_id: int, limit: int = 100) -> list[QueueItem]:
    """The tickets a signed-in citizen reported, newest first."""
    now = datetime.now(UTC)
    rows = await session.execute(
        _queue_select()
        .join(SignalementReporter, SignalementReporter.signalement_id == Signalement.id)
        .where(SignalementReporter.user_id == user_id)
        .order_by(Signalement.created_at.desc(), Signalement.id.desc())
        .limit(limit)
    )
    return [_item(r, now) for r in rows]


NEARBY_SQL = text(
    """
    WITH p AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography AS g)
    SELECT s.id, s.state, s.service_code AS category_code, s.category AS label,
           d.description, COALESCE(d.address_label, d.address_string) AS address_string,
           s.created_at, s.supports,
           ST_Distance(s.geom::geography, p.g) AS distance_m
    FROM public_layers.signalements s
    JOIN public_layers.signalement_pages d ON d.id = s.id, p
    WHERE ST_DWithin(s.geom::geography, p.g, :radius)
      AND s.status = 'open' AND s.service_code = :category
    ORDER BY distance_m, s.id
    LIMIT :limit
    """
)
CATEGORY_SQL = text("SELECT 1 FROM public_layers.categories WHERE code = :code")


async def nearby(
    *, session: AsyncSession, lon: float, lat: float, category: str, radius_m: float = 50.0,
    limit: int = 20,
) -> list[Nearby]:  # fmt: skip
    """Open reports of the same category within `radius_m` true metres, nearest first
    (from the public views: the reader role's session may read nothing else)."""
    if await session.scalar(CATEGORY_SQL, {"code": category}) is None:
        raise UnknownCategory(f"Catégorie inconnue : « {category} ».")
    rows = await session.execute(
        NEARBY_SQL,
        {"lon": lon, "lat": lat, "radius": radius_m, "category": category, "limit": limit},
    )
    return [
        Nearby(
            id=r.id,
            state=r.state,
            service_code=r.category_code,
            category=r.label,
            distance_m=round(float(r.distance_m), 1),
            summary=_summary(r.description),
            address=r.address_string,
            created_at=r.created_at,
            supports=r.supports,
        )  # fmt: skip
        for r in rows
    ]


STATS_SQL = """
SELECT s.service_id, sv.name AS service, a.name AS authority, s.category_code,
       count(*) AS total,
       count(*) FILTER (WHERE s.status = 'open') AS open,
       count(*) FILTER (WHERE s.status = 'open' AND s.due_at < now()) AS overdue,
       percentile_cont(0.5) WITHIN GROUP (
           ORDER BY extract(epoch FROM s.acknowledged_at - s.created_at) / 3600)
           FILTER (WHERE s.acknowledged_at IS NOT NULL) AS ack_hours,
       percentile_cont(0.5) WITHIN GROUP (
           ORDER BY extract(epoch FROM s.closed_at - s.created_at) / 3600)
           FILTER (WHERE s.state = 'resolved') AS resolve_hours
FROM signalement s
JOIN service sv ON sv.id = s.service_id
JOIN authority a ON a.id = sv.authority_id
WHERE s.service_id = ANY(:services) AND s.created_at >= :since AND s.created_at < :until
GROUP BY s.service_id, sv.name, a.name, s.category_code
ORDER BY a.name, sv.name, s.category_code
"""


async def service_stats(
    *, session: AsyncSession, actor: Actor, service_id: int | None = None,
    since: datetime | None = None, until: datetime | None = None,
) -> list[ServiceStats]:  # fmt: skip
    """Median times to acknowledge and to resolve, and what is open or overdue, for the
    tickets created in [since, until)."""
    allowed = await staff_services(session, actor)
    if not allowed or (service_id is not None and service_id not in allowed):
        raise Forbidden("Ces statistiques sont réservées aux agents et administrateurs du service.")
    services = [service_id] if service_id is not None else sorted(allowed)
    window = {
        "since": since or datetime(2000, 1, 1, tzinfo=UTC),
        "until": until or datetime.now(UTC) + timedelta(days=1),
    }
    rows = await session.execute(text(STATS_SQL), {"services": services, **window})
    return [
        ServiceStats(
            service_id=r.service_id,
            service=r.service,
            authority=r.authority,
            service_code=r.category_code,
            total=r.total,
            open=r.open,
            overdue=r.overdue,
            median_hours_to_acknowledge=_hours(r.ack_hours),
            median_hours_to_resolve=_hours(r.resolve_hours),
        )  # fmt: skip
        for r in rows
    ]


def _hours(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)


TRANSFERS_SQL = """
SELECT s.category_code, s.commune_insee, co.nom AS commune_nom,
       fa.name AS from_authority, ta.name AS to_authority, count(*) AS transfers
FROM signalement_event e
JOIN signalement s ON s.id = e.signalement_id AND s.authority_id = e.authority_id
JOIN service fs ON fs.id = e.from_service_id
JOIN authority fa ON fa.id = fs.authority_id
JOIN service ts ON ts.id = e.to_service_id
JOIN authority ta ON ta.id = ts.authority_id
LEFT JOIN commune co ON co.insee = s.commune_insee
WHERE e.kind = 'transfer'
  AND (fs.authority_id = ANY(:authorities) OR ts.authority_id = ANY(:authorities))
GROUP BY s.category_code, s.commune_insee, co.nom, fa.name, ta.name
ORDER BY transfers DESC, s.category_code, s.commune_insee
"""


async def transfer_stats(*, session: AsyncSession, actor: Actor) -> list[TransferStats]:
    """Transfers per category and commune, to or from the actor's authorities: where the
    competence table sends reports to the wrong service."""
    if not actor.admin_authority_ids:
        raise Forbidden("Réservé aux administrateurs.")
    rows = await session.execute(
        text(TRANSFERS_SQL), {"authorities": sorted(actor.admin_authority_ids)}
    )
    return [
        TransferStats(
            service_code=r.category_code,
            commune=Coded(code=r.commune_insee, nom=r.commune_nom or r.commune_insee),
            from_authority=r.from_authority,
            to_authority=r.to_authority,
            transfers=r.transfers,
        )  # fmt: skip
        for r in rows
    ]
