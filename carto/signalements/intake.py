"""The intake write: a routed report stored in one statement (ticket, events, reporter, photo).

Profiled under load, intake spent most of its time in round trips to PostgreSQL
(each one a loopback write and a wake-up on a busy 2-core machine): the ORM needs one
INSERT per table, plus a read-back of the computed columns. Here data-modifying CTEs
insert the ticket, its `submitted` and `routed` events, its reporter and its photo
link in one round trip, from the id the first INSERT returns. The rows built for the
notifications are plain, unattached objects: nothing is read back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from geoalchemy2 import WKTElement
from sqlalchemy import (
    DateTime,
    Integer,
    String,
    Text,
    bindparam,
    case,
    func,
    literal,
    null,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from carto.routing.decision import RoutingDecision
from carto.signalements.models import (
    Signalement,
    SignalementEvent,
    SignalementPhoto,
    SignalementReporter,
)
from carto.signalements.schemas import SignalementCreate


@dataclass(frozen=True)
class Stored:
    """The rows one intake wrote, as unattached objects (for the notifications)."""

    signalement: Signalement
    routed: SignalementEvent


def ticket_values(
    data: SignalementCreate, decision: RoutingDecision, when: datetime, source: str
) -> dict[str, Any]:
    """The ticket's columns, routed at once. Every column is given: Python-side column
    defaults are not applied to an INSERT inside a CTE."""
    return {
        "category_code": decision.category_code,
        "description": data.description,
        "address_string": data.address,
        "state": "routed",
        "geom": WKTElement(f"POINT({data.lon!r} {data.lat!r})", srid=4326),
        "commune_insee": decision.commune_insee,
        "arrondissement_insee": decision.arrondissement_insee,
        "intercommunalite_siren": decision.intercommunalite_siren,
        "authority_id": decision.authority_id,
        "service_id": decision.service_id,
        "rule_id": decision.rule_id,
        "explanation": decision.explanation,
        "street_name": decision.street_name,
        "road_class": decision.street_road_class,
        "due_at": when + timedelta(days=decision.due_days),
        "supports": 0,
        "source": source,
        "media_url": data.media_url,
        "created_at": when,
        "updated_at": when,
    }


def _reporter_row(data: SignalementCreate, user_id: int | None, ip: str | None) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "email": str(data.email).lower() if data.email else None,
        "first_name": data.first_name,
        "last_name": data.last_name,
        "ip": ip,
    }


TICKET = Signalement.__table__
REPORTER_COLUMNS = ("user_id", "email", "first_name", "last_name", "ip")


def _param(name: str, table: Any, column: str) -> Any:
    return bindparam(name, type_=table.c[column].type)


@cache
def _statement(columns: tuple[str, ...], with_reporter: bool, with_photo: bool) -> Any:
    """The intake statement, built once per shape with bound parameters: building and
    keying a statement of this size costs more than running it."""
    sig = (
        insert(Signalement)
        .values({c: _param(f"t_{c}", TICKET, c) for c in columns})
        .returning(Signalement.id, Signalement.authority_id)
        .cte("sig")
    )
    # Two events from one SELECT: step 1 `submitted`, step 2 `routed`, inserted in that
    # order so that their ids sort as they happened.
    step = func.generate_series(1, 2).table_valued("n").render_derived(name="step")
    first = step.c.n == 1
    ev = (
        insert(SignalementEvent)
        .from_select(
            ["signalement_id", "authority_id", "kind", "from_state", "to_state",
             "actor_user_id", "at", "public_note"],
            select(
                sig.c.id, sig.c.authority_id, literal("state", String),
                case((first, null()), else_=literal("submitted", String)),
                case((first, literal("submitted", String)), else_=literal("routed", String)),
                case((first, bindparam("e_actor", type_=Integer)), else_=null()),
                bindparam("e_at", type_=DateTime(timezone=True)),
                case((first, null()), else_=bindparam("e_note", type_=Text)),
            ).select_from(sig).join(step, true()).order_by(step.c.n),
        )
        .returning(SignalementEvent.id, SignalementEvent.to_state)
        .cte("ev")
    )  # fmt: skip
    extra = []
    if with_reporter:
        reporters = SignalementReporter.__table__
        extra.append(
            insert(SignalementReporter).from_select(
                ["signalement_id", "authority_id", *REPORTER_COLUMNS],
                select(sig.c.id, sig.c.authority_id,
                       *(_param(f"r_{c}", reporters, c) for c in REPORTER_COLUMNS)),
            ).cte("rep")
        )  # fmt: skip
    if with_photo:
        extra.append(
            insert(SignalementPhoto).from_select(
                ["signalement_id", "photo_id", "authority_id", "position"],
                select(sig.c.id, bindparam("photo_id", type_=String), sig.c.authority_id,
                       literal(0, Integer)),
            ).cte("photo")
        )  # fmt: skip
    routed_id = select(ev.c.id).where(ev.c.to_state == "routed").scalar_subquery()
    statement = select(sig.c.id, routed_id.label("routed_id"))
    return statement.add_cte(*extra) if extra else statement


async def insert_report(
    *,
    session: AsyncSession,
    data: SignalementCreate,
    decision: RoutingDecision,
    when: datetime,
    source: str,
    user_id: int | None,
    ip: str | None,
) -> Stored:
    """Insert the ticket and everything that comes with it in one statement."""
    ticket = ticket_values(data, decision, when, source)
    note = f"Transmis à : {decision.service_name}, {decision.authority_name}."
    params: dict[str, Any] = {f"t_{k}": v for k, v in ticket.items()}
    params |= {"e_actor": user_id, "e_at": when, "e_note": note}
    rep = _reporter_row(data, user_id, ip)
    with_reporter = any(v is not None for v in rep.values())
    if with_reporter:
        params |= {f"r_{k}": v for k, v in rep.items()}
    if data.photo_id:
        params["photo_id"] = data.photo_id
    statement = _statement(tuple(ticket), with_reporter, bool(data.photo_id))
    row = (await session.execute(statement, params)).one()
    stored = Signalement(id=row.id, **ticket)
    routed = SignalementEvent(
        id=row.routed_id, signalement_id=row.id, authority_id=decision.authority_id,
        kind="state", from_state="submitted", to_state="routed", at=when, public_note=note,
    )  # fmt: skip
    return Stored(signalement=stored, routed=routed)
