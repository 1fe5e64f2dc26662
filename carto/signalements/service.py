"""Intake and reading of tickets: plain functions, keyword-only session, no FastAPI.

A report is routed before anything is written: a point outside every territory,
an unknown category or a missing service raise, and nothing is stored. An
accepted report is stored `routed` at once, with both its `submitted` and
`routed` events, its reporter (apart), its photo link and its notifications, in
one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import aliased

from carto.accounts.models import User
from carto.errors import InvalidInput, NotFound
from carto.media.service import get_photo_ref
from carto.notifications.service import OutboxBatch
from carto.routing.decision import RoutingDecision
from carto.routing.models import Service
from carto.routing.resolution import resolve
from carto.signalements import notify
from carto.signalements.address import Lookup
from carto.signalements.intake import insert_report
from carto.signalements.models import (
    Signalement,
    SignalementEvent,
    SignalementReporter,
)
from carto.signalements.public_page import (
    current_explanation,
    history_label,
    page_row,
    photos,
    public_fields,
)
from carto.signalements.schemas import (
    Reporter,
    SignalementCreate,
    SignalementStaff,
    StaffHistoryItem,
)
from carto.territories.models import Authority


@dataclass(frozen=True)
class ReporterInfo:
    """Who sends a report, besides what they typed: their account and address, if any."""

    user_id: int | None = None
    ip: str | None = None
    account_id: str | None = None  # the reporter's account in an Open311 client


@dataclass(frozen=True)
class Created:
    """A stored report: its id (the public reference) and why it went where it went."""

    id: int
    notice: str


async def create_report(
    *,
    session: AsyncSession,
    data: SignalementCreate,
    reporter: ReporterInfo | None = None,
    source: str = "web",
    now: datetime | None = None,
    notify_people: bool = True,
    commit: bool = True,
    base_url: str = "",
    decision: RoutingDecision | None = None,
    address_lookup: Lookup | None = None,
) -> Created:
    """Route and store a report, in few round trips: the routing query, then the ticket
    with its reporter, events and notifications in one statement, then the commit.
    Returns the id and the routing explanation (nothing is read back). A caller that
    had to route the report already (an API key's scope check) passes its `decision`
    for the same point, category and time, so that each report is routed once.
    `address_lookup` is an external geocoder's bounded reverse (none: the built-in one,
    inside the intake statement)."""
    if commit and _fresh(session):
        await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    if data.photo_id and await get_photo_ref(session=session, photo_id=data.photo_id) is None:
        raise InvalidInput("Photo inconnue : envoyez-la d'abord, puis joignez son identifiant.")
    if decision is None:
        decision = await resolve(
            session=session, lon=data.lon, lat=data.lat, category_code=data.service_code, at=now
        )
    when = now or datetime.now(UTC)
    who = reporter or ReporterInfo()
    outbox = None
    if notify_people:
        citizen = str(data.email).lower() if data.email else None
        if citizen is None and who.user_id is not None:
            citizen = await session.scalar(select(User.email).where(User.id == who.user_id))
        known = notify.Known(
            category_label=decision.category_label, lon=data.lon, lat=data.lat,
            citizen=citizen, service_email=decision.service_email,
            follow_link=decision.via_contact, commune_nom=decision.commune_nom,
        )  # fmt: skip

        def outbox(sig: Signalement, event: SignalementEvent) -> OutboxBatch:
            return notify.outbox_batch(
                signalement=sig, event=event, known=known, routing=decision, base_url=base_url
            )

    found = None
    if address_lookup is not None and not data.address:
        found = await address_lookup(data.lon, data.lat, session)
    stored = await insert_report(
        session=session, data=data, decision=decision, when=when, source=source,
        user_id=who.user_id, ip=who.ip, outbox=outbox, account_id=who.account_id, found=found,
    )  # fmt: skip
    sig = stored.signalement
    if commit:
        await session.commit()
    return Created(id=sig.id, notice=decision.explanation)


def _fresh(session: AsyncSession) -> bool:
    """True when the report can be stored in autocommit: the session has written nothing
    yet and owns its connection. The intake statement writes everything at once, atomic
    on its own; BEGIN and COMMIT would be two more round trips, and the reads before it
    (photo, routing) need no transaction."""
    return isinstance(session.bind, AsyncEngine) and not session.in_transaction()


def _event(
    sig: Signalement, from_state: str | None, to_state: str, actor: int | None, at: datetime,
    public_note: str | None, **extra: Any,
) -> SignalementEvent:  # fmt: skip
    return SignalementEvent(
        signalement_id=sig.id, authority_id=sig.authority_id, kind=extra.pop("kind", "state"),
        from_state=from_state, to_state=to_state, actor_user_id=actor, at=at,
        public_note=public_note, **extra,
    )  # fmt: skip


async def _history(session: AsyncSession, signalement_id: int) -> list[StaffHistoryItem]:
    src, dst = aliased(Service), aliased(Service)
    src_auth, dst_auth = aliased(Authority), aliased(Authority)
    rows = await session.execute(
        select(SignalementEvent, User.pseudonym, src.name, src_auth.name, dst.name, dst_auth.name)
        .outerjoin(User, User.id == SignalementEvent.actor_user_id)
        .outerjoin(src, src.id == SignalementEvent.from_service_id)
        .outerjoin(src_auth, src_auth.id == src.authority_id)
        .outerjoin(dst, dst.id == SignalementEvent.to_service_id)
        .outerjoin(dst_auth, dst_auth.id == dst.authority_id)
        .where(SignalementEvent.signalement_id == signalement_id)
        .order_by(SignalementEvent.at, SignalementEvent.id)
    )
    return [
        StaffHistoryItem(
            state=ev.to_state,
            at=ev.at,
            note=ev.public_note,
            event=ev.kind,
            label=history_label(ev.kind, ev.to_state, ev.related_id, dst_name, dst_authority),
            internal_note=ev.internal_note,
            actor=pseudonym,
            from_service=f"{src_name}, {src_authority}" if src_name else None,
            to_service=f"{dst_name}, {dst_authority}" if dst_name else None,
        )  # fmt: skip
        for ev, pseudonym, src_name, src_authority, dst_name, dst_authority in rows
    ]


async def get_staff(*, session: AsyncSession, signalement_id: int) -> SignalementStaff:
    """The service's view: the public page plus the reporter's contact and internal notes."""
    row = await page_row(session, signalement_id)
    sig = await session.get(Signalement, signalement_id)
    if sig is None:
        raise NotFound(f"Signalement n° {signalement_id} introuvable.")
    fields = public_fields(row, await photos(session, signalement_id), datetime.now(UTC))
    rep = await session.get(SignalementReporter, signalement_id)
    account_email = None
    if rep is not None and rep.user_id is not None:
        account_email = await session.scalar(select(User.email).where(User.id == rep.user_id))
    reporter = (
        Reporter(
            email=rep.email or account_email,
            first_name=rep.first_name,
            last_name=rep.last_name,
            has_account=rep.user_id is not None,
        )
        if rep is not None
        else None
    )
    fields["explanation"] = await current_explanation(session, signalement_id, row.explanation)
    if rep is not None and rep.description_original:
        fields["description"] = rep.description_original  # as typed: contacts unmasked
    return SignalementStaff(
        **fields,
        history=await _history(session, signalement_id),
        service_id=sig.service_id,
        authority_id=sig.authority_id,
        rule_id=sig.rule_id,
        street=sig.street_name,
        road_class=sig.road_class,
        media_url=sig.media_url,
        source=sig.source,
        reporter=reporter,
        may_act=True,
    )
