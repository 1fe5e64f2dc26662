"""The intake write: a routed report stored in one statement (ticket, events, reporter,
photo, notifications).

Profiled under load, intake spent most of its time in round trips to PostgreSQL and in
the ORM's per-statement machinery. Here data-modifying CTEs insert the ticket, its
`submitted` and `routed` events, its reporter, its photo link and its outbox rows in
one round trip, from the ids the first INSERTs return; the statement is static text
(prepared once per connection), executed on the session's connection without the ORM.
The rows returned for the notifications are plain, unattached objects.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from geoalchemy2 import WKTElement
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from carto.geocoding.provider import Place
from carto.notifications.service import OutboxBatch, outbox_rows_sql
from carto.personal_data import mask_contact_details
from carto.routing.decision import RoutingDecision, routed_note
from carto.signalements import address
from carto.signalements.models import Signalement, SignalementEvent
from carto.signalements.schemas import SignalementCreate


@dataclass(frozen=True)
class Stored:
    """The rows one intake wrote, as unattached objects (for the notifications)."""

    signalement: Signalement
    routed: SignalementEvent


Outbox = Callable[[Signalement, SignalementEvent], OutboxBatch]
"""Builds the notifications of the new ticket's `routed` event (see notify.outbox_batch)."""


def ticket_values(
    data: SignalementCreate, decision: RoutingDecision, when: datetime, source: str,
    description: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The ticket's columns, routed at once. Every column is given: Python-side column
    defaults are not applied to an INSERT inside a CTE. `description` is the public
    text (contact details masked), the typed one when not given."""
    return {
        "category_code": decision.category_code,
        "description": data.description if description is None else description,
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


TICKET_COLUMNS = (
    "category_code", "description", "address_string", "state", "commune_insee",
    "arrondissement_insee", "intercommunalite_siren", "authority_id", "service_id", "rule_id",
    "explanation", "street_name", "road_class", "due_at", "supports", "source", "media_url",
    "created_at", "updated_at",
)  # fmt: skip
_TICKET_TYPES = {"authority_id": "int", "service_id": "int", "rule_id": "int",
                 "supports": "int", "due_at": "timestamptz", "created_at": "timestamptz",
                 "updated_at": "timestamptz"}  # fmt: skip
REPORTER_COLUMNS = (
    "user_id", "email", "first_name", "last_name", "ip", "description_original", "account_id",
)  # fmt: skip


def _cast(name: str, kind: str) -> str:
    return f"CAST(:{name} AS {kind})"


# The two events come from one SELECT: step 1 `submitted`, step 2 `routed`, inserted in
# that order so that their ids sort as they happened. The reporter and photo rows are
# inserted only when given; the outbox rows are templates filled with the new ids.
# The address comes from the `addr` CTE (carto.signalements.address): the built-in
# reverse geocoding of the point, in this same statement, unless it was given.
INTAKE_SQL = f"""WITH {address.ADDRESS_CTE}, sig AS (
    INSERT INTO signalement ({", ".join(TICKET_COLUMNS)}, geom, {", ".join(address.COLUMNS)})
    SELECT {", ".join(_cast("t_" + c, _TICKET_TYPES.get(c, "text")) for c in TICKET_COLUMNS)},
           ST_SetSRID(ST_MakePoint(CAST(:lon AS float8), CAST(:lat AS float8)), 4326),
           {", ".join(address.ADDRESS_VALUES)}
    FROM (SELECT 1) one LEFT JOIN addr ON true
    RETURNING id, authority_id
), ev AS (
    INSERT INTO signalement_event
        (signalement_id, authority_id, kind, from_state, to_state, actor_user_id, at,
         public_note)
    SELECT sig.id, sig.authority_id, 'state', step.from_state, step.to_state, step.actor,
           CAST(:e_at AS timestamptz), step.note
    FROM sig, (VALUES (1, NULL, 'submitted', CAST(:e_actor AS int), NULL),
                      (2, 'submitted', 'routed', NULL, CAST(:e_note AS text)))
              AS step(n, from_state, to_state, actor, note)
    ORDER BY step.n
    RETURNING id, to_state
), routed AS (
    SELECT id FROM ev WHERE to_state = 'routed'
), rep AS (
    INSERT INTO signalement_reporter (signalement_id, authority_id, {", ".join(REPORTER_COLUMNS)})
    SELECT sig.id, sig.authority_id, CAST(:r_user_id AS int), CAST(:r_email AS text),
           CAST(:r_first_name AS text), CAST(:r_last_name AS text), CAST(:r_ip AS text),
           CAST(:r_description_original AS text), CAST(:r_account_id AS text)
    FROM sig WHERE CAST(:with_reporter AS boolean)
), photo AS (
    INSERT INTO signalement_photo (signalement_id, photo_id, authority_id, position)
    SELECT sig.id, CAST(:photo_id AS text), sig.authority_id, 0
    FROM sig WHERE CAST(:photo_id AS text) IS NOT NULL
), outbox AS (
    {outbox_rows_sql("sig.id, routed.id", ", sig, routed")}
)
SELECT sig.id, routed.id AS routed_id FROM sig, routed"""
_INTAKE = text(INTAKE_SQL)
_NO_OUTBOX = OutboxBatch().columns()


def _reporter_row(
    data: SignalementCreate, user_id: int | None, ip: str | None, original: str | None,
    account_id: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    return {
        "user_id": user_id,
        "email": str(data.email).lower() if data.email else None,
        "first_name": data.first_name,
        "last_name": data.last_name,
        "ip": ip,
        "description_original": original,
        "account_id": account_id,
    }


async def insert_report(
    *,
    session: AsyncSession,
    data: SignalementCreate,
    decision: RoutingDecision,
    when: datetime,
    source: str,
    user_id: int | None,
    ip: str | None,
    outbox: Outbox | None = None,
    account_id: str | None = None,
    found: Place | None = None,
) -> Stored:
    """Insert the ticket and everything that comes with it, its notifications included,
    in one statement (one round trip, one atomic write even outside a transaction).
    Its address is the citizen's, else `found` (an external geocoder's), else the
    built-in reverse geocoding of the point, computed by the statement itself.

    The notifications mention ids the statement creates: they are built for stand-in
    ids (random marks no input can foresee) and the statement puts the real ones in.

    Contact details typed in the description are masked in the ticket (what every
    public path reads); the typed text goes with the reporter's data (staff only)."""
    public = mask_contact_details(data.description)
    original = data.description if public != data.description else None
    ticket = ticket_values(data, decision, when, source, public)
    note = routed_note(decision)
    params: dict[str, Any] = {f"t_{c}": ticket[c] for c in TICKET_COLUMNS}
    params |= {"lon": data.lon, "lat": data.lat, "e_actor": user_id, "e_at": when, "e_note": note}
    rep = _reporter_row(data, user_id, ip, original, account_id)
    params |= {f"r_{k}": v for k, v in rep.items()}
    params["with_reporter"] = any(v is not None for v in rep.values())
    params["photo_id"] = data.photo_id or None
    params |= address.intake_params(decision, data.address, found)
    token = secrets.token_hex(8)
    marks = (f"id{token}s", f"id{token}e")
    stored = Signalement(id=marks[0], **ticket)
    routed = SignalementEvent(
        id=marks[1], signalement_id=marks[0], authority_id=decision.authority_id,
        kind="state", from_state="submitted", to_state="routed", at=when, public_note=note,
    )  # fmt: skip
    params |= outbox(stored, routed).columns(marks) if outbox else _NO_OUTBOX
    conn = await session.connection()
    row = (await conn.execute(_INTAKE, params)).one()
    stored.id, routed.id, routed.signalement_id = row.id, row.routed_id, row.id
    return Stored(signalement=stored, routed=routed)
