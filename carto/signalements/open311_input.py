"""What a GeoReport v2 client sends: POST bodies, dates, addresses, attached photos.

The specification is followed where Carto used to be stricter: `description` is
optional (at least one of description, media/media_url or attributes), a report
may give `address_string` instead of `lat`/`long`, a multipart `media` file is
stored like a photo sent from the web app, dates may be date-only (midnight,
Paris time) and a date range is at most 90 days.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from fastapi import Request
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from carto.errors import InvalidInput
from carto.geocoding.provider import Geocoder as AddressSearch
from carto.geocoding.provider import Place, parse_query
from carto.media.upload import read_upload
from carto.signalements.schemas import SignalementCreate

PARIS = ZoneInfo("Europe/Paris")
MAX_RANGE = timedelta(days=90)
# Dates a search may name: beyond them, adding the 90-day range overflows (was a 500).
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)
NO_TEXT = "Sans description (photo jointe)."
NO_TEXT_ATTRIBUTES = "Sans description (informations complémentaires jointes)."


@dataclass(frozen=True)
class Body:
    """A POST body's text fields, and its `media` file when multipart."""

    fields: dict[str, Any]
    media: UploadFile | None = None


@dataclass(frozen=True)
class Located:
    """An address a geocoder found: the point and, when known, its postcode."""

    lon: float
    lat: float
    postcode: str | None = None


Geocoder = Callable[[str, AsyncSession], Awaitable[Located | None]]
"""The hook for `address_string` alone: the wiring sets `app.state.open311_geocoder`
to such a function (`address_geocoder`, over carto.geocoding's provider); without one
the specification's 400 says that lat/long are needed."""

# One answer at least this sure, and clearly ahead of the next different place, or the
# address is refused as unknown or ambiguous (GeoReport: 400 naming the problem).
MIN_SCORE = 0.5
MIN_LEAD = 0.05


def _told(place: Place, other: Place) -> str:
    """A place's label, with what tells it from `other` when both read the same
    (« Montreuil (93100) » or « Montreuil (85200) », not « Montreuil » twice)."""
    if place.label != other.label:
        return place.label
    extra = place.postcode or place.citycode
    return f"{place.label} ({extra})" if extra else place.label


def address_geocoder(provider: AddressSearch) -> Geocoder:
    """`address_string` through a geocoding provider (built in or BAN-compatible)."""

    async def geocode(address: str, session: AsyncSession) -> Located | None:
        places = await provider.search(parse_query(address, limit=3), session=session)
        if not places or places[0].score < MIN_SCORE:
            return None
        best = places[0]
        for other in places[1:]:
            far = abs(other.lon - best.lon) + abs(other.lat - best.lat) > 0.001
            if far and best.score - other.score < MIN_LEAD:
                raise InvalidInput(
                    f"Adresse ambiguë : « {address[:100]} » désigne « {_told(best, other)} » ou"
                    f" « {_told(other, best)} » ; précisez la commune ou indiquez lat et long."
                )
        return Located(lon=best.lon, lat=best.lat, postcode=best.postcode)

    return geocode


async def read_body(request: Request) -> Body:
    """A form-encoded, multipart or JSON body (the specification's POST is a form)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            data = json.loads(await request.body() or b"{}")
        except (ValueError, RecursionError) as exc:  # RecursionError: nesting too deep
            raise InvalidInput("Corps JSON illisible.") from exc
        if not isinstance(data, dict):
            raise InvalidInput("Le corps JSON doit être un objet.")
        return Body(data)
    if kind == "application/x-www-form-urlencoded":
        return Body(_urlencoded(await request.body()))
    form = await request.form()
    media = form.get("media")
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    return Body(fields, media if isinstance(media, UploadFile) and media.filename else None)


def _urlencoded(raw: bytes) -> dict[str, Any]:
    """A form-encoded body as Starlette's form parser reads it (%-escapes in UTF-8, `+` as
    a space, the last of repeated fields), without its per-byte state machine: it was a
    twentieth of a report's CPU. Unescaped bytes are read as UTF-8 when they are UTF-8
    (`curl -d "description=Dépôt"` sends them so), as latin-1 otherwise: Starlette reads
    them all as latin-1 and stored « DÃ©pÃ´t »."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    try:
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=1000)
    except ValueError as exc:  # too many fields
        raise InvalidInput("Formulaire illisible : trop de champs.") from exc
    return dict(pairs)


async def media_bytes(body: Body, max_bytes: int) -> bytes | None:
    """The attached photo's bytes, read up to the photo size limit."""
    if body.media is None:
        return None
    return await read_upload(body.media, max_bytes=max_bytes)


def _has_attributes(fields: dict[str, Any]) -> bool:
    return any(k.startswith("attribute[") and v not in (None, "") for k, v in fields.items())


def _given(fields: dict[str, Any], name: str) -> bool:
    return fields.get(name) not in (None, "")


async def locate(
    fields: dict[str, Any], geocoder: Geocoder | None, session: AsyncSession
) -> dict[str, Any]:
    """`lat`/`long` from the fields, or from `address_string` through the geocoder."""
    if _given(fields, "lat") and _given(fields, "long"):
        return fields
    address = str(fields.get("address_string") or "").strip()
    if not address:
        raise InvalidInput("Champ(s) requis manquant(s) : lat et long (ou address_string).")
    if geocoder is None:
        raise InvalidInput(
            "lat et long sont requis : ce serveur ne géocode pas une adresse seule "
            "(address_string)."
        )
    found = await geocoder(address, session)
    if found is None:
        raise InvalidInput(f"Adresse introuvable : « {address[:100]} » ; indiquez lat et long.")
    return {**fields, "lat": found.lat, "long": found.lon}


def to_create(
    fields: dict[str, Any], *, photo_id: str | None = None, has_media: bool = False
) -> SignalementCreate:
    """GeoReport fields (already located) as Carto's intake schema; 400 otherwise.
    `has_media`: a photo comes with the request (checked before it is stored)."""
    missing = [f for f in ("service_code", "lat", "long") if not _given(fields, f)]
    if missing:
        raise InvalidInput(f"Champ(s) requis manquant(s) : {', '.join(missing)}.")
    text = str(fields.get("description") or "").strip()
    if not text:
        if photo_id or has_media or _given(fields, "media_url"):
            text = NO_TEXT
        elif _has_attributes(fields):
            text = NO_TEXT_ATTRIBUTES
        else:
            raise InvalidInput(
                "Indiquez au moins une description, une photo (media ou media_url) "
                "ou des attributs."
            )
    try:
        return SignalementCreate(
            lon=fields["long"], lat=fields["lat"], service_code=str(fields["service_code"]),
            description=text, address=fields.get("address_string"), email=fields.get("email"),
            first_name=fields.get("first_name"), last_name=fields.get("last_name"),
            media_url=fields.get("media_url"), photo_id=photo_id,
        )  # fmt: skip
    except ValidationError as exc:
        if any(str(e.get("loc", [""])[0]) in ("lon", "lat") for e in exc.errors()):
            raise InvalidInput(
                "Coordonnées invalides : lat doit être entre -90 et 90, long entre -180 et 180."
            ) from exc
        raise


def account_id(fields: dict[str, Any]) -> str | None:
    value = str(fields.get("account_id") or "").strip()
    if len(value) > 100:
        raise InvalidInput("account_id : au plus 100 caractères.")
    return value or None


def parse_when(value: str) -> datetime:
    """A W3C datetime with its offset, or a date alone (midnight, Paris time)."""
    raw = value.strip().replace(" ", "+")
    if len(raw) == 10:
        return datetime.combine(date.fromisoformat(raw), time(), PARIS)
    parsed = datetime.fromisoformat(raw)
    if parsed.tzinfo is None:
        raise ValueError("timezone required")
    return parsed


def date_range(start: str | None, end: str | None) -> tuple[datetime, datetime]:
    """The window of a request search, at most 90 days: the last 90 by default, the 90
    after `start_date` or before `end_date` when only one is given."""
    try:
        since = parse_when(start) if start else None
        until = parse_when(end) if end else None
    except ValueError as exc:
        raise InvalidInput(
            "start_date et end_date : une date (2026-11-05, minuit heure de Paris) ou une "
            "date et heure ISO 8601 avec fuseau (2026-11-05T08:15:30+01:00)."
        ) from exc
    for given in (since, until):
        if given is not None and not EARLIEST <= given <= LATEST:
            raise InvalidInput("start_date et end_date : une date entre 1900 et 2999.")
    if until is None:
        until = datetime.now(UTC) + timedelta(seconds=1) if since is None else since + MAX_RANGE
    if since is None:
        since = until - MAX_RANGE
    if until < since:
        raise InvalidInput("end_date doit suivre start_date.")
    if until - since > MAX_RANGE:
        raise InvalidInput("La période demandée (start_date à end_date) dépasse 90 jours.")
    return since, until
