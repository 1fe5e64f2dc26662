"""A ticket's public page, read from the `public_layers` views (the reader role's).

Anonymous callers read it through the reader role's session, which can read these
views and nothing else; the staff page starts from the same fields (on the app role,
which may read the views too), so both pages show one public text.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from carto.errors import NotFound
from carto.media.models import Photo
from carto.media.service import photo_ref
from carto.signalements.address import address_of
from carto.signalements.schemas import Coded, HistoryItem, PhotoPublic, Point, SignalementPublic
from carto.signalements.states import LABELS

PARIS = ZoneInfo("Europe/Paris")
PAGE_SQL = text("SELECT * FROM public_layers.signalement_pages WHERE id = :id")
EVENTS_SQL = text(
    "SELECT kind, to_state, at, public_note, related_id, to_service, to_authority "
    "FROM public_layers.signalement_events WHERE signalement_id = :id ORDER BY at, id"
)
PHOTOS_SQL = text(
    "SELECT photo_id, content_type, width, height FROM public_layers.signalement_photos "
    "WHERE signalement_id = :id ORDER BY position"
)


def reference(signalement_id: int) -> str:
    """What a citizen quotes: the ticket's number."""
    return f"{signalement_id}"


LAST_TRANSFER_SQL = text(
    "SELECT at, public_note, to_service, to_authority FROM public_layers.signalement_events "
    "WHERE signalement_id = :id AND kind = 'transfer' ORDER BY at DESC, id DESC LIMIT 1"
)


def routing_now(original: str, transfer: Any | None) -> str:
    """ "Pourquoi ce service" as it stands: after a transfer, where the ticket went and
    why (the agent's public reason), then the first routing; else the first routing."""
    if transfer is None:
        return original
    when = transfer.at.astimezone(PARIS)
    reason = f" : « {transfer.public_note} »" if transfer.public_note else ""
    return (
        f"Transféré le {when:%d/%m/%Y} à {transfer.to_service}, {transfer.to_authority}"
        f"{reason}. Routage initial : {original}"
    )


async def current_explanation(session: AsyncSession, signalement_id: int, original: str) -> str:
    """`routing_now` with the ticket's last transfer read from the public events."""
    last = (await session.execute(LAST_TRANSFER_SQL, {"id": signalement_id})).first()
    return routing_now(original, last)


def history_label(
    kind: str, to_state: str, related_id: int | None, service: str | None, authority: str | None
) -> str:
    """What the history line says: the state, or where the ticket went, or what merged."""
    if kind == "transfer":
        return f"transféré à : {service}, {authority}"
    if kind == "address":
        return "adresse corrigée"
    if kind == "merge" and to_state != "duplicate":
        return f"le signalement n° {related_id} y a été fusionné"
    return LABELS[to_state]


async def page_row(session: AsyncSession, signalement_id: int) -> Any:
    """The ticket's public columns; NotFound when there is no such ticket."""
    row = (await session.execute(PAGE_SQL, {"id": signalement_id})).first()
    if row is None:
        raise NotFound(f"Signalement n° {signalement_id} introuvable.")
    return row


async def photos(session: AsyncSession, signalement_id: int) -> list[PhotoPublic]:
    rows = await session.execute(PHOTOS_SQL, {"id": signalement_id})
    refs = [
        photo_ref(Photo(id=r.photo_id, content_type=r.content_type, width=r.width, height=r.height))
        for r in rows
    ]
    return [PhotoPublic(id=r.id, url=r.url, thumbnail_url=r.thumbnail_url) for r in refs]


def public_fields(row: Any, pictures: list[PhotoPublic], now: datetime) -> dict[str, Any]:
    """The fields of the public page, from a `signalement_pages` row."""
    return {
        "id": row.id,
        "reference": reference(row.id),
        "state": row.state,
        "state_label": LABELS[row.state],
        "status": row.status,
        "service_code": row.category_code,
        "category": row.category,
        "authority": row.authority,
        "service": row.service,
        "location": Point(coordinates=(float(row.lon), float(row.lat))),
        "address": address_of(row),
        "description": row.description,
        "explanation": row.explanation,
        "commune": Coded(code=row.commune_insee, nom=row.commune_nom or row.commune_insee),
        "arrondissement": (
            Coded(code=row.arrondissement_insee, nom=row.arrondissement_nom or "")
            if row.arrondissement_insee
            else None
        ),
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "due_at": row.due_at,
        "overdue": row.status == "open" and row.due_at < now,
        "supports": row.supports,
        "duplicate_of": row.duplicate_of_id,
        "photos": pictures,
    }


async def get_public(*, session: AsyncSession, signalement_id: int) -> SignalementPublic:
    """The public page: no personal data, no internal note."""
    row = await page_row(session, signalement_id)
    events = (await session.execute(EVENTS_SQL, {"id": signalement_id})).all()
    history = [
        HistoryItem(
            state=e.to_state,
            at=e.at,
            note=e.public_note,
            event=e.kind,
            label=history_label(e.kind, e.to_state, e.related_id, e.to_service, e.to_authority),
        )  # fmt: skip
        for e in events
    ]
    fields = public_fields(row, await photos(session, signalement_id), datetime.now(UTC))
    transfers = [e for e in events if e.kind == "transfer"]
    fields["explanation"] = routing_now(row.explanation, transfers[-1] if transfers else None)
    return SignalementPublic(**fields, history=history)
