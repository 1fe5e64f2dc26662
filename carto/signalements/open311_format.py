"""GeoReport v2 shapes: Carto's categories and tickets in the specification's fields.

The field lists are the specification's, in its order; tests hold the answers to
them. `agency_responsible` is the competent authority's official name, " — ",
then the service's name; `status` is open/closed and `status_notes` carries the
detailed lifecycle state, then the last public note.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from carto.errors import CartoError, InvalidInput, NotFound
from carto.media.service import extension_of
from carto.parsing import is_digits, parse_id
from carto.signalements.models import Signalement
from carto.signalements.states import LABELS

PARIS = ZoneInfo("Europe/Paris")
MAX_REQUESTS = 1000
SERVICE_FIELDS = ("service_code", "service_name", "description", "metadata", "type",
                  "keywords", "group")  # fmt: skip
REQUEST_FIELDS = (
    "service_request_id", "status", "status_notes", "service_name", "service_code",
    "description", "agency_responsible", "service_notice", "requested_datetime",
    "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat",
    "long", "media_url",
)  # fmt: skip


def w3c(value: datetime | None) -> str | None:
    """ISO 8601 with the offset (W3C note), to the second, in French time."""
    if value is None:
        return None
    return value.astimezone(PARIS).replace(microsecond=0).isoformat()


def parse_w3c(value: str) -> datetime:
    """A W3C datetime ('Z' or an offset required); ValueError otherwise."""
    parsed = datetime.fromisoformat(value.strip().replace(" ", "+"))
    if parsed.tzinfo is None:
        raise ValueError("timezone required")
    return parsed


def split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def parse_ids(value: str) -> list[int]:
    ids = split(value)
    if not ids or not all(is_digits(i) for i in ids) or len(ids) > MAX_REQUESTS:
        raise InvalidInput("service_request_id : des numéros séparés par des virgules.")
    return [n for n in map(parse_id, ids) if n is not None]  # too long: no such request


CATEGORIES_SQL = """SELECT code, label, description, "group", keywords, active
FROM public_layers.categories"""


async def services(*, session: AsyncSession) -> list[dict[str, Any]]:
    rows = await session.execute(text(CATEGORIES_SQL + " WHERE active ORDER BY sort_order, code"))
    return [
        {
            "service_code": c.code,
            "service_name": c.label,
            "description": c.description,
            "metadata": False,
            "type": "realtime",
            "keywords": c.keywords,
            "group": c.group,
        }
        for c in rows
    ]


async def definition(*, session: AsyncSession, service_code: str) -> dict[str, Any]:
    where = text(CATEGORIES_SQL + " WHERE code = :code")
    category = (await session.execute(where, {"code": service_code})).first()
    if category is None or not category.active:
        raise NotFound(f"Service inconnu : « {service_code} ».")
    return {"service_code": category.code, "attributes": []}


async def service_notice(*, session: AsyncSession, signalement_id: int) -> str:
    """What the citizen should know right after sending: who handles it, and why."""
    sig = await session.get(Signalement, signalement_id)  # just created: no query
    if sig is None:
        raise NotFound(f"Demande n° {signalement_id} introuvable.")
    return sig.explanation


@dataclass(frozen=True)
class Jurisdiction:
    """An authority a client names by `jurisdiction_id`: its slug, its SIREN, or its code
    (INSEE code of a commune, short code of a département or région it holds)."""

    authority_id: int
    code: str
    slug: str
    name: str


class AmbiguousJurisdiction(CartoError):
    """A short code that names several authorities (« 84 »: a département and a région)."""

    status_code = 400
    code = "ambiguous_jurisdiction"


JURISDICTION_SQL = text(
    "SELECT id, code, slug, name, siren, slug = :slug AS by_slug, siren = :code AS by_siren"
    " FROM public_layers.jurisdictions"
    " WHERE slug = :slug OR siren = :code OR code = :code OR :code = ANY(area_codes)"
    " ORDER BY id"
)


async def jurisdiction(*, session: AsyncSession, ident: str) -> Jurisdiction:
    """The authority named by `jurisdiction_id`: a slug or a SIREN names one; a short
    code that names several is refused with the candidates (400); none is 404."""
    key = ident.strip()[:120]
    rows = (await session.execute(JURISDICTION_SQL, {"slug": key.lower(), "code": key})).all()
    if not rows:
        raise NotFound(f"jurisdiction_id inconnu : « {key[:60]} ».")
    exact = [r for r in rows if r.by_slug] or [r for r in rows if r.by_siren] or rows
    if len({r.id for r in exact}) > 1:
        listed = " ; ".join(
            f"{r.name} (SIREN {r.siren or 'inconnu'}, identifiant « {r.slug} »)" for r in exact
        )
        raise AmbiguousJurisdiction(
            f"jurisdiction_id « {key[:20]} » désigne plusieurs collectivités : {listed}. "
            "Indiquez son SIREN ou son identifiant."
        )
    found = exact[0]
    return Jurisdiction(authority_id=found.id, code=found.code, slug=found.slug, name=found.name)


async def jurisdictions(*, session: AsyncSession) -> list[dict[str, str]]:
    """Every authority that receives reports (it has a service), for discovery."""
    rows = await session.execute(
        text(
            "SELECT slug, code, name FROM public_layers.jurisdictions WHERE has_service"
            " ORDER BY name, slug"
        )
    )
    return [{"jurisdiction_id": r.slug, "code": r.code, "name": r.name} for r in rows]


# A jurisdiction's requests: those it handles, and those on its ground (its commune, its
# member communes, its département's or région's communes: `ground`, the communes where
# it accepts a report) whoever handles them.
IN_JURISDICTION = (
    "(s.authority_id = :j_id OR s.intercommunalite_siren = :j_code"
    " OR s.commune_authority_id = :j_id OR s.commune_insee = ANY(:j_ground))"
)

REQUESTS_SQL = """
SELECT s.id, s.state, s.status, s.category_code, s.category, s.description,
       s.authority, s.service, s.explanation, s.created_at, s.updated_at,
       s.due_at, COALESCE(s.address_label, s.address_string) AS address_string,
       s.lat, s.lon, s.media_url, s.zipcode,
       photo.photo_id, photo.content_type AS photo_type, note.public_note AS last_note
FROM public_layers.signalement_pages s
LEFT JOIN LATERAL (
    SELECT p.photo_id, p.content_type FROM public_layers.signalement_photos p
    WHERE p.signalement_id = s.id ORDER BY p.position LIMIT 1
) photo ON true
LEFT JOIN LATERAL (
    SELECT e.public_note FROM public_layers.signalement_events e
    WHERE e.signalement_id = s.id AND e.public_note IS NOT NULL
    ORDER BY e.at DESC, e.id DESC LIMIT 1
) note ON true
WHERE {where}
ORDER BY s.created_at DESC, s.id DESC
LIMIT :limit
"""


def status_notes(state: str, note: str | None) -> str:
    """The detailed state (machine-readable first), then the last public note."""
    text_ = f"{state} : {LABELS[state]}"
    return f"{text_} — {note}" if note else text_


def _request(row: Any, base_url: str) -> dict[str, Any]:
    media = row.media_url
    if row.photo_id:
        media = f"{base_url}/media/{row.photo_id}.{extension_of(row.photo_type)}"
    values = {
        "service_request_id": str(row.id),
        "status": row.status,
        "status_notes": status_notes(row.state, row.last_note),
        "service_name": row.category,
        "service_code": row.category_code,
        "description": row.description,
        "agency_responsible": f"{row.authority} — {row.service}",
        "service_notice": row.explanation,
        "requested_datetime": w3c(row.created_at),
        "updated_datetime": w3c(row.updated_at),
        "expected_datetime": w3c(row.due_at),
        "address": row.address_string,
        "address_id": None,
        "zipcode": row.zipcode,
        "lat": float(row.lat),
        "long": float(row.lon),
        "media_url": media,
    }
    return {field: values[field] for field in REQUEST_FIELDS}


async def requests(
    *, session: AsyncSession, base_url: str, ids: Sequence[int] | None = None,
    codes: Sequence[str] = (), statuses: Sequence[str] = (), since: datetime | None = None,
    until: datetime | None = None, within: Jurisdiction | None = None,
    ground: Sequence[str] = (),
) -> list[dict[str, Any]]:  # fmt: skip
    """Requests by ids, or by codes, status and creation window, in a jurisdiction when
    one is given (`ground`: the INSEE codes of its communes); newest first (from the
    public views: the reader role's session may read nothing else)."""
    where: list[str] = []
    params: dict[str, Any] = {"limit": MAX_REQUESTS}
    if within is not None:
        where.append(IN_JURISDICTION)
        params.update(j_id=within.authority_id, j_code=within.code, j_ground=list(ground))
    if ids is not None:
        where.append("s.id = ANY(:ids)")
        params["ids"] = list(ids)
    else:
        where.append("s.created_at >= :since AND s.created_at < :until")
        params.update(since=since, until=until)
        if codes:
            where.append("s.category_code = ANY(:codes)")
            params["codes"] = list(codes)
        if statuses:
            where.append("s.status = ANY(:statuses)")
            params["statuses"] = list(statuses)
    rows = await session.execute(text(REQUESTS_SQL.format(where=" AND ".join(where))), params)
    return [_request(r, base_url) for r in rows]
