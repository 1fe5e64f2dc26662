"""Open311 GeoReport v2 (JSON) at `/open311/v2`: services, service definitions, requests.

Every failure on these routes is the specification's error list,
`[{"code": <HTTP status>, "description": "..."}]`, with that 4xx status: the
route class below catches Carto's errors and request validation alike.
POST bodies may be form-encoded or JSON. `api_key` is optional unless the
deployment requires it (`CARTO_OPEN311_REQUIRE_API_KEY`, or keys listed in
`CARTO_OPEN311_API_KEYS`); a key of an API client (carto.apiclients) restricts the
caller to the services of its scope, and a revoked key is always refused.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from carto.accounts.deps import OptionalPrincipal
from carto.apiclients.service import KeyScope, authenticate_key, check_scope
from carto.db import PublicSessionDep, SessionDep
from carto.errors import CartoError, InvalidInput, NotFound
from carto.idempotency import OPENAPI_EXTRA, begin, caller_scope, claim_of, record
from carto.parsing import parse_id
from carto.ratelimit import rate_limited
from carto.routing.resolution import resolve
from carto.settings import Settings
from carto.signalements import open311_format as fmt
from carto.signalements.schemas import SignalementCreate
from carto.signalements.service import ReporterInfo, create_report

SPEC_URL = "http://wiki.open311.org/GeoReport_v2"


def error_response(
    status: int, description: str, headers: dict[str, str] | None = None
) -> Response:
    """The specification's error body: a list of {code, description}."""
    return JSONResponse([{"code": status, "description": description}], status, headers=headers)


def _status(exc: CartoError) -> int:
    """GeoReport uses 400 for any bad request; Carto's 422 become 400."""
    return 400 if exc.status_code == 422 else exc.status_code


def _describe(errors: list[Any]) -> str:
    fields = sorted({str(e.get("loc", ["?"])[-1]) for e in errors})
    return "Requête invalide : champ(s) manquant(s) ou incorrect(s) : " + ", ".join(fields) + "."


class Open311Route(APIRoute):
    """Turns any failure of a GeoReport route into the specification's error list."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except CartoError as exc:
                retry = exc.extra.get("retry_after")
                headers = {"Retry-After": str(retry)} if retry is not None else None
                return error_response(_status(exc), exc.message, headers)
            except (RequestValidationError, ValidationError) as exc:
                return error_response(400, _describe(list(exc.errors())))

        return route


router = APIRouter(route_class=Open311Route, tags=["open311"])


@router.get("/discovery.json")
async def discovery(request: Request) -> dict[str, Any]:
    """Service discovery: where this GeoReport v2 endpoint is and what it speaks."""
    base = str(request.base_url).rstrip("/")
    return {
        "changeset": "2026-11-22T00:00:00Z",
        "contact": "Voir la page d'accueil du service.",
        "key_service": "Clé facultative dans la démonstration.",
        "endpoints": [
            {
                "specification": SPEC_URL,
                "url": f"{base}/open311/v2",
                "changeset": "2026-11-22T00:00:00Z",
                "type": "production",
                "formats": ["application/json"],
            }
        ],
    }


@router.get("/services.json")
async def services(session: PublicSessionDep) -> list[dict[str, Any]]:
    """The service types (Carto's categories)."""
    return await fmt.services(session=session)


@router.get("/services/{service_code}.json")
async def service_definition(session: PublicSessionDep, service_code: str) -> dict[str, Any]:
    """A service's definition: no extra attributes (metadata is false for all)."""
    return await fmt.definition(session=session, service_code=service_code)


async def _key_scope(
    request: Request, session: AsyncSession, body: dict[str, Any]
) -> KeyScope | None:
    """The presented `api_key`'s scope (None: anonymous); refuses a revoked or missing key."""
    settings: Settings = request.app.state.settings
    given = body.get("api_key") or request.query_params.get("api_key")
    return await authenticate_key(
        session=session, key=str(given) if given is not None else None,
        env_keys=settings.open311_api_keys, required=settings.open311_require_api_key,
    )  # fmt: skip


async def _check_scope(
    session: AsyncSession, scope: KeyScope | None, data: SignalementCreate
) -> None:
    """A scoped key may only file requests its authority or services will receive: the
    request is routed first (nothing written) and refused when it falls outside."""
    if scope is None or not scope.restricted:
        return
    decision = await resolve(
        session=session, lon=data.lon, lat=data.lat, category_code=data.service_code
    )
    check_scope(
        scope, service_id=decision.service_id, authority_id=decision.authority_id,
        where=f"{decision.service_name}, {decision.authority_name}",
    )  # fmt: skip


async def _body(request: Request) -> dict[str, Any]:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            data = json.loads(await request.body() or b"{}")
        except (ValueError, RecursionError) as exc:  # RecursionError: nesting too deep
            raise InvalidInput("Corps JSON illisible.") from exc
        if not isinstance(data, dict):
            raise InvalidInput("Le corps JSON doit être un objet.")
        return data
    if kind == "application/x-www-form-urlencoded":
        return _urlencoded(await request.body())
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _urlencoded(raw: bytes) -> dict[str, Any]:
    """A form-encoded body as Starlette's form parser reads it (latin-1 bytes, %-escapes
    in UTF-8, `+` as a space, the last of repeated fields), without its per-byte state
    machine: it was a twentieth of a report's CPU."""
    try:
        pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True, max_num_fields=1000)
    except ValueError as exc:  # too many fields
        raise InvalidInput("Formulaire illisible : trop de champs.") from exc
    return dict(pairs)


def to_create(body: dict[str, Any]) -> SignalementCreate:
    """GeoReport fields as Carto's intake schema (400 with the faulty fields otherwise)."""
    required = ("service_code", "lat", "long", "description")
    missing = [f for f in required if body.get(f) in (None, "")]
    if missing:
        no_point = "lat" in missing or "long" in missing
        hint = ""
        if no_point and body.get("address_string"):
            hint = " (le géocodage d'une adresse seule n'est pas proposé)"
        raise InvalidInput(f"Champ(s) requis manquant(s) : {', '.join(missing)}{hint}.")
    try:
        return SignalementCreate(
            lon=body["long"], lat=body["lat"], service_code=str(body["service_code"]),
            description=str(body["description"]), address=body.get("address_string"),
            email=body.get("email"), first_name=body.get("first_name"),
            last_name=body.get("last_name"), media_url=body.get("media_url"),
        )  # fmt: skip
    except ValidationError as exc:
        if any(str(e.get("loc", [""])[0]) in ("lon", "lat") for e in exc.errors()):
            raise InvalidInput(
                "Coordonnées invalides : lat doit être entre -90 et 90, long entre -180 et 180."
            ) from exc
        raise


@router.post(
    "/requests.json",
    status_code=201,
    dependencies=[Depends(rate_limited("signalement"))],
    openapi_extra=OPENAPI_EXTRA,
)
async def create_request(
    request: Request, session: SessionDep, principal: OptionalPrincipal
) -> Response:
    """Create a service request; it is routed at once to the competent service."""
    body = await _body(request)
    scope = await _key_scope(request, session, body)
    data = to_create(body)
    user_id = principal.user_id if principal else None
    client = None if scope is None else str(scope.client_id or f"env-{scope.name}")
    claim = await claim_of(request, caller_scope(request, user_id=user_id, client=client))
    if claim is not None and (replay := await begin(session, claim)) is not None:
        return replay
    await _check_scope(session, scope, data)
    reporter = ReporterInfo(user_id=user_id, ip=request.client.host if request.client else None)
    base = str(request.app.state.public_url)  # e-mailed links: never the Host header
    created = await create_report(
        session=session, data=data, reporter=reporter, source="open311", base_url=base,
        commit=claim is None,
    )  # fmt: skip
    response = JSONResponse(
        [{"service_request_id": str(created.id), "service_notice": created.notice,
          "account_id": None}],
        status_code=201,
    )  # fmt: skip
    if claim is not None:  # the key commits with the report, or neither does
        await record(session, claim, response)
        await session.commit()
    return response


def _dates(start: str | None, end: str | None) -> tuple[datetime, datetime]:
    try:
        until = fmt.parse_w3c(end) if end else datetime.now(UTC) + timedelta(seconds=1)
        since = fmt.parse_w3c(start) if start else until - timedelta(days=90)
    except ValueError as exc:
        raise InvalidInput(
            "start_date et end_date doivent être des dates ISO 8601 avec fuseau "
            "(ex. 2026-11-05T08:15:30+01:00)."
        ) from exc
    return since, until


@router.get("/requests.json")
async def list_requests(
    request: Request,
    session: PublicSessionDep,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
) -> list[dict[str, Any]]:
    """Requests, newest first: by ids (which override every other filter), or by
    service codes, dates (default: the last 90 days) and status; at most 1,000."""
    base = str(request.base_url).rstrip("/")
    if service_request_id:
        ids = fmt.parse_ids(service_request_id)
        return await fmt.requests(session=session, base_url=base, ids=ids)
    since, until = _dates(start_date, end_date)
    statuses = fmt.split(status)
    if not set(statuses) <= {"open", "closed"}:
        raise InvalidInput("status vaut open, closed, ou les deux séparés par une virgule.")
    return await fmt.requests(
        session=session, base_url=base, codes=fmt.split(service_code), statuses=statuses,
        since=since, until=until,
    )  # fmt: skip


@router.get("/requests/{service_request_id}.json")
async def get_request(
    request: Request, session: PublicSessionDep, service_request_id: str
) -> list[dict[str, Any]]:
    """One request, as a one-element list (as the specification has it)."""
    ident = parse_id(service_request_id)
    if ident is None:
        raise NotFound(f"Demande « {service_request_id[:40]} » introuvable.")
    found = await fmt.requests(
        session=session, base_url=str(request.base_url).rstrip("/"), ids=[ident]
    )
    if not found:
        raise NotFound(f"Demande n° {service_request_id} introuvable.")
    return found
