"""Open311 GeoReport v2 at `/open311/v2`: discovery, services, service definitions,
requests, in XML (the specification's default) and JSON, after the URL's suffix.

Every failure under `/open311` is the specification's error list in the format the
URL asked for, `[{"code", "description"}]` or `<errors><error>`, with its 4xx
status: the route class below catches Carto's errors, request validation and
Starlette's own (unknown paths, methods) alike. POST bodies may be form-encoded,
multipart (with a `media` photo) or JSON. `api_key` is optional unless the
deployment requires it (`CARTO_OPEN311_REQUIRE_API_KEY`, or keys listed in
`CARTO_OPEN311_API_KEYS`); a key of an API client (carto.apiclients) restricts the
caller to the services of its scope, and a revoked key is always refused.
`jurisdiction_id` names an authority (slug or code) and narrows what is read.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from carto.accounts.deps import OptionalPrincipal
from carto.apiclients.service import KeyScope, authenticate_key, check_scope
from carto.deps import PublicSessionDep, SessionDep
from carto.errors import CartoError, InvalidInput, NotFound, is_data_error
from carto.idempotency import OPENAPI_EXTRA, begin, caller_scope, claim_of, record
from carto.media.service import store_photo
from carto.parsing import parse_id
from carto.ratelimit import rate_limited
from carto.routing.decision import RoutingDecision
from carto.routing.jurisdiction import categories_received, ground_communes, on_ground
from carto.routing.resolution import resolve
from carto.settings import Settings
from carto.signalements import open311_format as fmt
from carto.signalements import open311_input as inp
from carto.signalements.open311_xml import FORMATS, answer, error, format_of
from carto.signalements.schemas import SignalementCreate
from carto.signalements.service import ReporterInfo, create_report

SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-07T00:00:00Z"
PREFIX = "/open311/v2"  # where carto.app mounts `router`


def _status(exc: CartoError) -> int:
    """GeoReport uses 400 for any bad request; Carto's 422 become 400."""
    return 400 if exc.status_code == 422 else exc.status_code


def _describe(errors: list[Any]) -> str:
    fields = sorted({str(e.get("loc", ["?"])[-1]) for e in errors})
    return "Requête invalide : champ(s) manquant(s) ou incorrect(s) : " + ", ".join(fields) + "."


def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    words = {404: "Ressource inconnue", 405: "Méthode non permise"}
    text = f"{words.get(exc.status_code, 'Requête refusée')} : {request.method} {request.url.path}."
    return error(exc.status_code, text, format_of(request.url.path), dict(exc.headers or {}))


class Open311Route(APIRoute):
    """Turns any failure of a GeoReport route into the specification's error list."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            kind = format_of(request.url.path)
            try:
                return await handler(request)
            except CartoError as exc:
                retry = exc.extra.get("retry_after")
                headers = {"Retry-After": str(retry)} if retry is not None else None
                return error(_status(exc), exc.message, kind, headers)
            except (RequestValidationError, ValidationError) as exc:
                return error(400, _describe(list(exc.errors())), kind)
            except StarletteHTTPException as exc:
                return _http_error(request, exc)
            except DBAPIError as exc:  # a value PostgreSQL refuses (NUL, out of range)
                if not is_data_error(exc):
                    raise
                return error(400, "Valeur invalide ou hors limites.", kind)

        return route


router = APIRouter(route_class=Open311Route, tags=["open311"])
fallback = APIRouter(include_in_schema=False)


def _format(value: str) -> str:
    if value not in FORMATS:
        raise NotFound(f"Format inconnu : « {value[:20]} » (xml ou json).")
    return value


async def _within(session: AsyncSession, jurisdiction_id: object) -> fmt.Jurisdiction | None:
    """The named jurisdiction; a JSON body may send any type, a query any character."""
    if jurisdiction_id is None:
        return None
    if not isinstance(jurisdiction_id, str):
        raise InvalidInput("jurisdiction_id doit être un texte (identifiant, SIREN ou code).")
    if not jurisdiction_id.strip():
        return None
    if not jurisdiction_id.strip().isprintable():
        raise InvalidInput("jurisdiction_id ne peut pas contenir de caractère de contrôle.")
    return await fmt.jurisdiction(session=session, ident=jurisdiction_id)


@router.get("/discovery.{ext}")
async def discovery(request: Request, session: PublicSessionDep, ext: str) -> Response:
    """Service discovery: where this endpoint is, what it speaks, its jurisdictions."""
    kind = _format(ext)
    base = str(request.app.state.public_url).rstrip("/")
    payload = {
        "changeset": CHANGESET,
        "contact": "Voir la page d'accueil du service.",
        "key_service": "Clé facultative dans la démonstration.",
        "endpoints": [
            {
                "specification": SPEC_URL,
                "url": f"{base}/open311/v2",
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
        "jurisdictions": await fmt.jurisdictions(session=session),
    }
    return answer(payload, kind, "discovery")


async def _received(routing: AsyncSession, within: fmt.Jurisdiction | None) -> set[str] | None:
    """The categories a jurisdiction really receives (None: no jurisdiction, all of them).
    Routing's own session: the rules are not public views (as `/routing/preview`)."""
    if within is None:
        return None
    return await categories_received(session=routing, authority_id=within.authority_id)


@router.get("/services.{ext}")
async def services(
    session: PublicSessionDep, routing: SessionDep, ext: str, jurisdiction_id: str | None = None
) -> Response:
    """The service types: Carto's categories, or those the jurisdiction really receives
    (its own rules and services, or the defaults e-mailed to its front desk)."""
    kind = _format(ext)
    received = await _received(routing, await _within(session, jurisdiction_id))
    found = await fmt.services(session=session)
    if received is not None:
        found = [s for s in found if s["service_code"] in received]
    return answer(found, kind, "services")


@router.get("/services/{service_code}.{ext}")
async def service_definition(
    session: PublicSessionDep, routing: SessionDep, service_code: str, ext: str,
    jurisdiction_id: str | None = None,
) -> Response:  # fmt: skip
    """A service's definition: no extra attributes (metadata is false for all)."""
    kind = _format(ext)
    within = await _within(session, jurisdiction_id)
    found = await fmt.definition(session=session, service_code=service_code)
    received = await _received(routing, within)
    if received is not None and within is not None and service_code not in received:
        raise NotFound(f"Service « {service_code} » inconnu de la juridiction « {within.name} ».")
    return answer(found, kind, "service_definition")


async def _key_scope(
    request: Request, session: AsyncSession, fields: dict[str, Any]
) -> KeyScope | None:
    """The presented `api_key`'s scope (None: anonymous); refuses a revoked or missing key."""
    settings: Settings = request.app.state.settings
    given = fields.get("api_key") or request.query_params.get("api_key")
    return await authenticate_key(
        session=session, key=str(given) if given is not None else None,
        env_keys=settings.open311_api_keys, required=settings.open311_require_api_key,
    )  # fmt: skip


async def _route_once(
    session: AsyncSession, scope: KeyScope | None, within: fmt.Jurisdiction | None,
    data: SignalementCreate, *, force: bool = False,
) -> RoutingDecision | None:  # fmt: skip
    """Route before writing when a scoped key or a jurisdiction must be checked, or a
    photo would be stored (`force`); the decision then goes to the intake, which does not
    route again. Otherwise the intake routes (in autocommit, one round trip fewer)."""
    restricted = scope is not None and scope.restricted
    if not restricted and within is None and not force:
        return None
    decision = await resolve(
        session=session, lon=data.lon, lat=data.lat, category_code=data.service_code
    )
    if scope is not None and restricted:
        check_scope(
            scope, service_id=decision.service_id, authority_id=decision.authority_id,
            where=f"{decision.service_name}, {decision.authority_name}",
        )  # fmt: skip
    if (
        within is not None
        and within.authority_id != decision.authority_id
        and within.code not in (decision.commune_insee, decision.intercommunalite_siren)
        and not await on_ground(
            session=session, authority_id=within.authority_id, insee=decision.commune_insee
        )
    ):  # its ground: a département's or an EPT's communes too
        raise InvalidInput(f"Ce point n'est pas dans la juridiction « {within.name} ».")
    return decision


async def _ground(routing: AsyncSession, within: fmt.Jurisdiction | None) -> list[str]:
    """The communes where the jurisdiction accepts reports (`_route_once`), so that it
    reads back every report it accepted; routing's session, as `_received`."""
    if within is None:
        return []
    return await ground_communes(session=routing, authority_id=within.authority_id)


@router.post(
    "/requests.{ext}",
    status_code=201,
    dependencies=[Depends(rate_limited("signalement"))],
    openapi_extra=OPENAPI_EXTRA,
)
async def create_request(
    request: Request, session: SessionDep, principal: OptionalPrincipal, ext: str
) -> Response:
    """Create a service request; it is routed at once to the competent service."""
    kind = _format(ext)
    settings: Settings = request.app.state.settings
    body = await inp.read_body(request)
    scope = await _key_scope(request, session, body.fields)
    within = await _within(session, body.fields.get("jurisdiction_id"))
    geocoder = getattr(request.app.state, "open311_geocoder", None)
    fields = await inp.locate(body.fields, geocoder, session)
    draft = inp.to_create(fields, has_media=body.media is not None)  # before any photo
    account = inp.account_id(fields)
    user_id = principal.user_id if principal else None
    client = None if scope is None else str(scope.client_id or f"env-{scope.name}")
    claim = await claim_of(request, caller_scope(request, user_id=user_id, client=client))
    if claim is not None and (replay := await begin(session, claim)) is not None:
        return replay
    decision = await _route_once(
        session, scope, within, draft, force=body.media is not None
    )  # a report that cannot be routed stores no photo
    photo_id = None
    if (raw := await inp.media_bytes(body, settings.media_max_bytes)) is not None:
        ref = await store_photo(
            session=session, data=raw, filename=body.media.filename if body.media else None,
            settings=settings, anonymous=principal is None,
        )  # fmt: skip
        photo_id = ref.id
    data = inp.to_create(fields, photo_id=photo_id)
    reporter = ReporterInfo(
        user_id=user_id, ip=request.client.host if request.client else None, account_id=account
    )
    base = str(request.app.state.public_url)  # e-mailed links: never the Host header
    created = await create_report(
        session=session, data=data, reporter=reporter, source="open311", base_url=base,
        commit=claim is None, decision=decision,
        address_lookup=getattr(request.app.state, "intake_address", None),
    )  # fmt: skip
    payload = [
        {"service_request_id": str(created.id), "service_notice": created.notice,
         "account_id": account}
    ]  # fmt: skip
    response = answer(payload, kind, "service_requests", 201)
    if claim is not None:  # the key commits with the report, or neither does
        await record(session, claim, response)
        await session.commit()
    return response


@router.get("/requests.{ext}")
async def list_requests(
    request: Request,
    session: PublicSessionDep,
    routing: SessionDep,
    ext: str,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
    jurisdiction_id: str | None = None,
) -> Response:
    """Requests, newest first: by ids (which override every other filter but the
    jurisdiction), or by service codes, dates (default: the last 90 days, at most 90)
    and status; at most 1,000."""
    kind = _format(ext)
    base = str(request.app.state.public_url).rstrip("/")
    within = await _within(session, jurisdiction_id)
    ground = await _ground(routing, within)
    if service_request_id:
        ids = fmt.parse_ids(service_request_id)
        found = await fmt.requests(
            session=session, base_url=base, ids=ids, within=within, ground=ground
        )
        return answer(found, kind, "service_requests")
    since, until = inp.date_range(start_date, end_date)
    statuses = fmt.split(status)
    if not set(statuses) <= {"open", "closed"}:
        raise InvalidInput("status vaut open, closed, ou les deux séparés par une virgule.")
    found = await fmt.requests(
        session=session, base_url=base, codes=fmt.split(service_code), statuses=statuses,
        since=since, until=until, within=within, ground=ground,
    )  # fmt: skip
    return answer(found, kind, "service_requests")


@router.get("/requests/{service_request_id}.{ext}")
async def get_request(
    request: Request, session: PublicSessionDep, routing: SessionDep, service_request_id: str,
    ext: str, jurisdiction_id: str | None = None,
) -> Response:  # fmt: skip
    """One request, as a one-element list (as the specification has it)."""
    kind = _format(ext)
    within = await _within(session, jurisdiction_id)
    ident = parse_id(service_request_id)
    if ident is None:
        raise NotFound(f"Demande « {service_request_id[:40]} » introuvable.")
    base = str(request.app.state.public_url).rstrip("/")
    ground = await _ground(routing, within)
    found = await fmt.requests(
        session=session, base_url=base, ids=[ident], within=within, ground=ground
    )
    if not found:
        raise NotFound(f"Demande n° {service_request_id} introuvable.")
    return answer(found, kind, "service_requests")


@fallback.api_route(
    "/{rest:path}", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
)
async def not_open311(request: Request, rest: str) -> Response:
    """Anything else under /open311: 405 when the path exists for another method, 404
    otherwise, in the specification's shape."""
    inner = {**request.scope, "path": request.url.path.removeprefix(PREFIX), "root_path": ""}
    allowed = sorted(
        m
        for r in router.routes
        if isinstance(r, APIRoute) and r.matches(inner)[0] == Match.PARTIAL
        for m in r.methods or ()
    )
    if not allowed:
        return _http_error(request, StarletteHTTPException(404))
    return _http_error(request, StarletteHTTPException(405, headers={"Allow": ", ".join(allowed)}))
