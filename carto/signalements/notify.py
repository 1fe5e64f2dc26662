"""Who is told what when a ticket moves: rows in the notifications outbox, same transaction.

- the citizen, by e-mail, at every public step (the address they gave, or their
  account's);
- the assigned service, by e-mail when a ticket arrives (routing, transfer,
  reopening) and by webhook at every step;
- the services a rule informs, by e-mail and webhook, when the ticket is routed.

Event keys are derived from the event id, so a retried call queues nothing twice.
Webhook payloads carry the ticket, never the reporter's personal data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from carto.accounts.models import User
from carto.notifications.follow_link import (
    DAYS_PLACEHOLDER,
    PATH,
    PLACEHOLDER,
    follow_payload,
)
from carto.notifications.service import OutboxBatch
from carto.routing.decision import InformedService, RoutingDecision
from carto.routing.models import Category, Service
from carto.routing.ruleset import CONTACT_SLUG
from carto.signalements.models import Signalement, SignalementEvent, SignalementReporter
from carto.signalements.states import LABELS
from carto.territories.models import Commune

ARRIVALS = frozenset({"routed", "reopened"})


@dataclass(frozen=True)
class Known:
    """What the caller knows already (at intake), so that nothing is read back."""

    category_label: str
    lon: float
    lat: float
    citizen: str | None
    service_email: str | None
    follow_link: bool = False  # the service is a front desk without Carto: a signed link
    commune_nom: str | None = None  # for the subject: an INSEE code reads as a postcode


async def _citizen_address(session: AsyncSession, signalement_id: int) -> str | None:
    row = (
        await session.execute(
            select(SignalementReporter.email, User.email)
            .outerjoin(User, User.id == SignalementReporter.user_id)
            .where(SignalementReporter.signalement_id == signalement_id)
        )
    ).first()
    if row is None:
        return None
    return row[0] or row[1]


async def _known(session: AsyncSession, sig: Signalement) -> Known:
    label = await session.scalar(select(Category.label).where(Category.code == sig.category_code))
    point = (
        await session.execute(
            select(func.ST_X(Signalement.geom), func.ST_Y(Signalement.geom)).where(
                Signalement.id == sig.id
            )
        )
    ).one()
    service = (
        await session.execute(
            select(Service.email, Service.slug).where(Service.id == sig.service_id)
        )
    ).one()
    return Known(
        category_label=str(label), lon=float(point[0]), lat=float(point[1]),
        citizen=await _citizen_address(session, sig.id), service_email=service[0],
        follow_link=service[1] == CONTACT_SLUG,
        commune_nom=await session.scalar(
            select(Commune.nom).where(Commune.insee == sig.commune_insee)
        ),
    )  # fmt: skip


def _payload(sig: Signalement, event: SignalementEvent, known: Known) -> dict[str, Any]:
    return {
        "id": sig.id,
        "service_code": sig.category_code,
        "category": known.category_label,
        "state": event.to_state,
        "previous_state": event.from_state,
        "event": event.kind,
        "note": event.public_note,
        "at": event.at.isoformat(),
        "location": {"type": "Point", "coordinates": [known.lon, known.lat]},
        "address": sig.address_string,
        "commune": sig.commune_insee,
        "description": sig.description,
        "explanation": sig.explanation,
        "due_at": sig.due_at.isoformat(),
        "url": f"/suivi/{sig.id}",
    }


def _citizen_text(sig: Signalement, event: SignalementEvent, where: str) -> tuple[str, str]:
    state = LABELS[event.to_state]
    subject = f"Votre signalement n° {sig.id} : {state}"
    lines = [
        "Bonjour,",
        "",
        f"Votre signalement n° {sig.id} est désormais : {state}.",
        *([f"Note du service : {event.public_note}"] if event.public_note else []),
        "",
        *([f"Pourquoi ce service : {sig.explanation}"] if event.to_state == "routed" else []),
        f"Suivre le signalement : {where}/suivi/{sig.id}",
        "",
        "Ce message est envoyé automatiquement ; merci de ne pas y répondre.",
    ]
    return subject, "\n".join(lines)


def _service_text(
    sig: Signalement, payload: dict[str, Any], where: str, place: str, *, informed: bool = False
) -> tuple[str, str]:
    """`place`: the commune's name (« (Cayenne) », not « (97302) », read as a postcode)."""
    head = "Pour information" if informed else "Nouveau signalement"
    subject = f"{head} n° {sig.id} — {payload['category']} ({place})"
    lon, lat = payload["location"]["coordinates"]
    text = "\n".join(
        [
            f"{head} n° {sig.id} : {payload['category']}.",
            f"Adresse : {sig.address_string or 'non précisée'} ; position : {lat:.6f}, {lon:.6f}.",
            f"Description : {sig.description}",
            f"Routage : {sig.explanation}",
            f"Échéance : {sig.due_at:%d/%m/%Y}.",
            f"Traiter : {where}/agent/signalements/{sig.id}",
        ]
    )
    return subject, text


def outbox_batch(
    *,
    signalement: Signalement,
    event: SignalementEvent,
    known: Known,
    routing: RoutingDecision | None = None,
    base_url: str = "",
) -> OutboxBatch:
    """Who is told what about one event: the outbox rows, not yet written (the intake
    writes them within its own statement, `announce` on its own)."""
    sig = signalement
    key = f"signalement:{sig.id}:event:{event.id}"
    payload = _payload(sig, event, known)
    place = known.commune_nom or sig.commune_insee
    batch = OutboxBatch()
    if known.citizen:
        subject, text = _citizen_text(sig, event, base_url)
        batch.email(to=known.citizen, subject=subject, text=text,
                    event_key=f"{key}:citizen", authority_id=sig.authority_id)  # fmt: skip
    if known.service_email and (event.to_state in ARRIVALS or event.kind == "transfer"):
        subject, text = _service_text(sig, payload, base_url, place)
        extra = None
        if known.follow_link:
            text += (f"\nSans compte Carto, suivre et répondre (lien personnel, valable "
                     f"{DAYS_PLACEHOLDER} jours) : {base_url}{PATH}{PLACEHOLDER}")  # fmt: skip
            extra = {"follow": follow_payload(sig.id, known.service_email)}
        batch.email(to=known.service_email, subject=subject, text=text, extra=extra,
                    event_key=f"{key}:service", authority_id=sig.authority_id)  # fmt: skip
    batch.webhook(service_id=sig.service_id, event=f"signalement.{event.kind}",
                  payload=payload, event_key=f"{key}:webhook",
                  authority_id=sig.authority_id)  # fmt: skip
    if routing is not None:
        _inform(batch, sig, payload, routing.informed, key, base_url, place)
    return batch


async def announce(
    *,
    session: AsyncSession,
    signalement: Signalement,
    event: SignalementEvent,
    routing: RoutingDecision | None = None,
    known: Known | None = None,
    base_url: str = "",
) -> None:
    """Queue the notifications of one event (call after the event row is flushed), in
    one statement that also reads the services' addresses and webhook URLs."""
    known = known or await _known(session, signalement)
    batch = outbox_batch(
        signalement=signalement, event=event, known=known, routing=routing, base_url=base_url
    )
    await batch.flush(session=session)


def _inform(
    batch: OutboxBatch, sig: Signalement, payload: dict[str, Any],
    informed: Sequence[InformedService], key: str, base_url: str, place: str,
) -> None:  # fmt: skip
    """The services a rule informs: an e-mail to their address, their webhook."""
    for item in informed:
        subject, text = _service_text(sig, payload, base_url, place, informed=True)
        batch.service_email(service_id=item.service_id, subject=subject, text=text,
                            event_key=f"{key}:informed:{item.service_id}",
                            authority_id=item.authority_id)  # fmt: skip
        batch.webhook(service_id=item.service_id, event="signalement.informed",
                      payload=payload, event_key=f"{key}:informed-webhook:{item.service_id}",
                      authority_id=item.authority_id)  # fmt: skip
