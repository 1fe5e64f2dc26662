"""The address of a report: found at intake, shown everywhere, corrected by staff.

At intake the built-in geocoder runs inside the intake statement itself (the
`addr` CTE below: a few KNN probes, the commune already known from routing), so
it adds no round trip. With an external provider (`CARTO_GEOCODER_URL`) its
reverse is asked first under a short timeout (`INTAKE_TIMEOUT_S`); a slow, failing
or empty answer falls back to the built-in one: intake never waits on it for long
and never fails because of it. An address the citizen typed (Open311
`address_string`) or picked (web) is kept as they gave it; the point still fills
the postcode and commune.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from carto.errors import Forbidden, NotFound
from carto.geocoding.builtin import ADDRESS_MAX_M, REVERSE_IN_AREA_SQL, STREET_MAX_M
from carto.geocoding.provider import Geocoder, GeocoderUnavailable, Place
from carto.routing.decision import RoutingDecision
from carto.signalements.lifecycle import Actor, is_staff, locked
from carto.signalements.models import Signalement, SignalementEvent
from carto.signalements.schemas import AddressIn, AddressPublic, Around, Point

log = logging.getLogger("carto.signalements.address")
FIELDS = ("label", "type", "housenumber", "street", "postcode", "citycode", "city", "source")
COLUMNS = tuple(f"address_{f}" for f in FIELDS)
INTAKE_TIMEOUT_S = 0.3  # an external reverse slower than this is not waited for

Lookup = Callable[[float, float, AsyncSession], Awaitable[Place | None]]
"""An external reverse for intake: the place at (lon, lat), or None to use the built-in."""

# The intake statement's CTE and the values of the ticket's address columns, in COLUMNS
# order: what was given (:a_*) wins, the built-in reverse (`addr`) fills the rest. A
# typed label keeps its own type, number and street (none): the reverse's would not
# describe the citizen's words.
_REVERSE = "\n".join(ln for ln in REVERSE_IN_AREA_SQL.splitlines() if not ln.startswith("--"))
ADDRESS_CTE = f"addr AS ({_REVERSE})"
ADDRESS_VALUES = (
    "COALESCE(CAST(:a_label AS text), addr.label)",
    "CASE WHEN CAST(:a_label AS text) IS NULL THEN addr.type ELSE CAST(:a_type AS text) END",
    "CASE WHEN CAST(:a_label AS text) IS NULL THEN addr.housenumber"
    " ELSE CAST(:a_housenumber AS text) END",
    "CASE WHEN CAST(:a_label AS text) IS NULL THEN addr.street ELSE CAST(:a_street AS text) END",
    "COALESCE(CAST(:a_postcode AS text), addr.postcode)",
    "COALESCE(CAST(:a_citycode AS text), addr.citycode)",
    "COALESCE(CAST(:a_city AS text), addr.city)",
    "CAST(:a_source AS text)",
)


def external_lookup(geocoder: Geocoder, timeout_s: float = INTAKE_TIMEOUT_S) -> Lookup:
    """The provider's reverse, bounded by `timeout_s`; any failure is None (built-in)."""

    async def lookup(lon: float, lat: float, session: AsyncSession) -> Place | None:
        try:
            async with asyncio.timeout(timeout_s):
                places = await geocoder.reverse(lon, lat, session=session)
        except (TimeoutError, GeocoderUnavailable) as exc:
            log.warning("intake reverse geocoding fell back to the built-in: %r", exc)
            return None
        return places[0] if places else None

    return lookup


def _cut(value: object, size: int) -> str | None:
    return str(value)[:size] if value is not None else None


def intake_params(
    decision: RoutingDecision, typed: str | None, found: Place | None
) -> dict[str, Any]:
    """The `:a_*` parameters of the intake statement."""
    params: dict[str, Any] = {f"a_{f}": None for f in FIELDS}
    params |= {
        "addr_m": ADDRESS_MAX_M, "street_m": STREET_MAX_M, "a_skip": False,
        "a_area_insee": decision.arrondissement_insee or decision.commune_insee,
        "a_area_name": decision.arrondissement_nom or decision.commune_nom,
        "a_source": "reverse",
    }  # fmt: skip
    if typed:
        params |= {"a_label": typed, "a_source": "citizen"}
    elif found is not None:
        # Cut to the columns' sizes: another service's answer must never fail the intake.
        params |= {
            "a_label": found.label[:300], "a_type": found.type,
            "a_housenumber": _cut(found.housenumber, 30), "a_street": _cut(found.street, 300),
            "a_postcode": _cut(found.postcode, 5), "a_citycode": _cut(found.citycode, 5),
            "a_city": _cut(found.city, 200), "a_skip": True,
        }  # fmt: skip
    return params


def address_of(row: Any) -> AddressPublic | None:
    """The stored address of a ticket row (a view's or the ORM's), else the typed text of
    a ticket older than addresses, else None."""
    if row.address_label:
        return AddressPublic(**{f: getattr(row, f"address_{f}") for f in FIELDS})
    if row.address_string:
        return AddressPublic(label=row.address_string, source="citizen")
    return None


def label_of(row: Any) -> str | None:
    """One line for lists (the queue, nearby): the label, else the typed text."""
    return row.address_label or row.address_string


async def correct(
    *, session: AsyncSession, signalement_id: int, actor: Actor, data: AddressIn,
    now: datetime | None = None, commit: bool = True,
) -> None:  # fmt: skip
    """Staff replace the ticket's address; a history event says so (the old one in its
    internal note). Anyone but the ticket's service and its authority's admins: 403."""
    sig = await locked(session, signalement_id)
    if not is_staff(actor, sig):
        raise Forbidden("Seuls les agents du service chargé du signalement corrigent son adresse.")
    when = now or datetime.now(UTC)
    before = sig.address_label or sig.address_string
    values = data.model_dump()
    for field in FIELDS[:-1]:
        setattr(sig, f"address_{field}", values[field])
    sig.address_source = "staff"
    sig.updated_at = when
    session.add(
        SignalementEvent(
            signalement_id=sig.id, authority_id=sig.authority_id, kind="address",
            from_state=sig.state, to_state=sig.state, actor_user_id=actor.user_id, at=when,
            public_note=f"Adresse corrigée : {data.label}",
            internal_note=f"Adresse précédente : {before}" if before else None,
        )
    )  # fmt: skip
    await session.flush()
    if commit:
        await session.commit()


AROUND_SQL = text(
    """
    SELECT s.id, s.state, s.service_code, s.category, s.address,
           ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat,
           ST_Distance(s.geom::geography, t.geom::geography) AS distance_m
    FROM public_layers.signalements t
    CROSS JOIN LATERAL (
        SELECT o.* FROM public_layers.signalements o
        WHERE o.id <> t.id ORDER BY o.geom <-> t.geom LIMIT :probe
    ) s
    WHERE t.id = :id AND ST_DWithin(s.geom::geography, t.geom::geography, :radius)
    ORDER BY distance_m, s.id
    LIMIT :limit
    """
)


async def around(
    *, session: AsyncSession, signalement_id: int, actor: Actor, limit: int = 5,
    radius_m: float = 1000.0,
) -> list[Around]:  # fmt: skip
    """The nearest other reports (any state, any category) within `radius_m`, for the
    agent who goes there: what else to look at on the way. Staff of the ticket only."""
    sig = await session.get(Signalement, signalement_id)
    if sig is None:
        raise NotFound(f"Signalement n° {signalement_id} introuvable.")
    if not is_staff(actor, sig):
        raise Forbidden("Réservé aux agents du service chargé du signalement.")
    rows = await session.execute(
        AROUND_SQL, {"id": sig.id, "probe": limit * 4, "radius": radius_m, "limit": limit}
    )
    return [
        Around(
            id=r.id,
            state=r.state,
            service_code=r.service_code,
            category=r.category,
            address=r.address,
            distance_m=round(float(r.distance_m), 1),
            location=Point(coordinates=(float(r.lon), float(r.lat))),
        )
        for r in rows
    ]
