"""Native API of the tickets (`/api/v1`): intake, public page, staff queue and actions."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import AwareDatetime
from sqlalchemy.ext.asyncio import AsyncSession

from carto.accounts.deps import CurrentPrincipal, OptionalPrincipal, Principal
from carto.deps import PublicSessionDep, ReadSessionDep, SessionDep, base_url, client_address
from carto.idempotency import OPENAPI_EXTRA, begin, caller_scope, claim_of, record
from carto.ratelimit import rate_limited
from carto.settings import Settings
from carto.signalements import (
    lifecycle,
    orientation,
    public_page,
    queries,
    reroute,
    service,
    transfer_targets,
)
from carto.signalements.lifecycle import is_staff
from carto.signalements.models import Signalement
from carto.signalements.schemas import (
    MergeIn,
    Nearby,
    Queue,
    QueueItem,
    ServiceStats,
    SignalementCreate,
    SignalementPublic,
    SignalementStaff,
    SupportResult,
    TransferCandidates,
    TransferIn,
    TransferStats,
    TransitionIn,
)
from carto.signalements.service import ReporterInfo

router = APIRouter(tags=["signalements"])


@router.post(
    "/signalements",
    status_code=201,
    response_model=SignalementPublic,
    dependencies=[Depends(rate_limited("signalement"))],
    openapi_extra=OPENAPI_EXTRA,
)
async def create(
    request: Request, session: SessionDep, principal: OptionalPrincipal, data: SignalementCreate
) -> Response:
    """Report a problem; it is routed at once (422 with the reason when it cannot be).
    With an `Idempotency-Key`, a retry answers the first answer again."""
    user_id = principal.user_id if principal else None
    claim = await claim_of(request, caller_scope(request, user_id=user_id))
    if claim is not None and (replay := await begin(session, claim)) is not None:
        return replay
    reporter = ReporterInfo(user_id=user_id, ip=client_address(request))
    created = await service.create_report(
        session=session, data=data, reporter=reporter, source="web", base_url=base_url(request),
        commit=claim is None, address_lookup=getattr(request.app.state, "intake_address", None),
    )  # fmt: skip
    new_id = created.id
    public = await public_page.get_public(session=session, signalement_id=new_id)
    response = JSONResponse(
        public.model_dump(mode="json"),
        status_code=201,
        headers={"Location": f"/api/v1/signalements/{new_id}"},
    )
    if claim is not None:  # the key commits with the report, or neither does
        await record(session, claim, response)
        await session.commit()
    return response


@router.get("/signalements", response_model=Queue)
async def staff_queue(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    service_id: int | None = None,
    state: Annotated[str | None, Query(description="états séparés par des virgules")] = None,
    category: Annotated[str | None, Query(max_length=40)] = None,
    service_code: Annotated[str | None, Query(max_length=40, description="= category")] = None,
    commune: Annotated[str | None, Query(max_length=200)] = None,
    overdue: bool | None = None,
    limit: Annotated[int, Query(ge=1)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
    sort: Annotated[
        Literal["oldest", "newest", "deadline"],
        Query(description="oldest (défaut), newest, ou deadline (échéance la plus proche)"),
    ] = "oldest",
    a_orienter: Annotated[bool, Query(description="file « à orienter » (administrateurs)")] = False,
) -> Queue:
    """The tickets of the caller's services (agents) or authorities (administrators),
    oldest first unless `sort` says otherwise; open ones unless `state` says otherwise.
    `a_orienter`: the tickets routed only by a legal default or to an authority without
    Carto (orientation.py)."""
    settings: Settings = request.app.state.settings
    if a_orienter:
        return await orientation.queue(
            session=session, actor=principal, limit=min(limit, settings.max_page_size),
            offset=offset,
        )  # fmt: skip
    return await queries.queue(
        session=session,
        actor=principal,
        service_id=service_id,
        states=[s.strip() for s in state.split(",") if s.strip()] if state else (),
        category=category or service_code,
        commune=commune,
        overdue=overdue,
        limit=min(limit, settings.max_page_size),
        offset=offset,
        sort=sort,
    )


@router.get("/signalements/nearby", response_model=list[Nearby])
async def nearby(
    session: PublicSessionDep,
    lon: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
    service_code: Annotated[str, Query(min_length=1, max_length=40)],
    radius: Annotated[float, Query(gt=0, le=500, description="mètres")] = 50.0,
) -> list[Nearby]:
    """Open reports of this category within `radius` metres: support one instead?
    Read from the public views, as the reader role."""
    return await queries.nearby(
        session=session, lon=lon, lat=lat, category=service_code, radius_m=radius
    )


@router.get("/signalements/stats", response_model=list[ServiceStats])
async def stats(
    session: SessionDep,
    principal: CurrentPrincipal,
    service_id: int | None = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
) -> list[ServiceStats]:
    """Service levels per service and category (median hours to acknowledge, to resolve)
    of the tickets created between `since` and `until`."""
    return await queries.service_stats(
        session=session, actor=principal, service_id=service_id, since=since, until=until
    )


@router.get("/admin/signalements/transfers", response_model=list[TransferStats])
async def transfers(session: SessionDep, principal: CurrentPrincipal) -> list[TransferStats]:
    """How many tickets were transferred, per category and commune (to fix the table)."""
    return await queries.transfer_stats(session=session, actor=principal)


@router.get("/admin/competences/{rule_id}/reroute", response_model=reroute.RerouteResult)
async def reroute_preview(
    session: SessionDep, principal: CurrentPrincipal, rule_id: int
) -> reroute.RerouteResult:
    """The open tickets a rule change now routes elsewhere (nothing is written)."""
    return await reroute.reroute(
        session=session, rule_id=rule_id, apply=False, admin_of=principal.admin_authority_ids
    )


@router.post("/admin/competences/{rule_id}/reroute", response_model=reroute.RerouteResult)
async def reroute_apply(
    request: Request, session: SessionDep, principal: CurrentPrincipal, rule_id: int
) -> reroute.RerouteResult:
    """Re-route them, each with a transfer event the citizen reads."""
    return await reroute.reroute(
        session=session, rule_id=rule_id, apply=True, user_id=principal.user_id,
        admin_of=principal.admin_authority_ids, base_url=base_url(request),
    )  # fmt: skip


@router.get("/me/signalements", response_model=list[QueueItem])
async def my_reports(session: SessionDep, principal: CurrentPrincipal) -> list[QueueItem]:
    """The reports the signed-in citizen made."""
    return await queries.mine(session=session, user_id=principal.user_id)


@router.get("/signalements/{signalement_id}", response_model=SignalementStaff | SignalementPublic)
async def read(
    session: ReadSessionDep,
    public: PublicSessionDep,
    principal: OptionalPrincipal,
    signalement_id: int,
) -> SignalementPublic:
    """The public page of a ticket; its service's staff also see the reporter's contact.
    Anyone else reads the public views as the reader role (or on the replica when
    configured, except for callers who must see their own writes: carto.scaling.routing)."""
    return await _page(session, principal, signalement_id, public)


async def _page(
    session: AsyncSession,
    principal: Principal | None,
    signalement_id: int,
    public: AsyncSession | None = None,
) -> SignalementPublic:
    """The staff page for the ticket's staff (app role), else the public page."""
    if principal is not None:
        sig = await session.get(Signalement, signalement_id)
        if sig is not None and is_staff(principal, sig):
            return await service.get_staff(session=session, signalement_id=signalement_id)
    return await public_page.get_public(session=public or session, signalement_id=signalement_id)


@router.post(
    "/signalements/{signalement_id}/transitions",
    response_model=SignalementStaff | SignalementPublic,
)
async def transition(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    signalement_id: int,
    data: TransitionIn,
) -> SignalementPublic:
    """Move the ticket along its lifecycle (409 when the lifecycle forbids it)."""
    settings: Settings = request.app.state.settings
    await lifecycle.transition(
        session=session,
        signalement_id=signalement_id,
        actor=principal,
        to=data.to,
        note=data.note,
        internal_note=data.internal_note,
        reopen_days=settings.signalement_reopen_days,
        base_url=base_url(request),
    )
    return await _page(session, principal, signalement_id)


@router.get("/signalements/{signalement_id}/transfer-candidates", response_model=TransferCandidates)
async def transfer_candidates(
    session: SessionDep,
    principal: CurrentPrincipal,
    signalement_id: int,
    q: Annotated[
        str | None, Query(max_length=100, description="nom du service ou de la collectivité")
    ] = None,
) -> TransferCandidates:
    """The services that can take the ticket, grouped by authority: its commune's and
    intercommunalities' first; any other only through `q` (403 for non-staff)."""
    return await transfer_targets.candidates(
        session=session, signalement_id=signalement_id, actor=principal, q=q
    )


@router.post(
    "/signalements/{signalement_id}/transfer", response_model=SignalementStaff | SignalementPublic
)
async def transfer(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    signalement_id: int,
    data: TransferIn,
) -> SignalementPublic:
    """Send the ticket on to another service, with a reason the citizen sees."""
    await lifecycle.transfer(
        session=session,
        signalement_id=signalement_id,
        actor=principal,
        service_id=data.service_id,
        reason=data.reason,
        internal_note=data.internal_note,
        base_url=base_url(request),
    )
    return await _page(session, principal, signalement_id)


@router.post(
    "/signalements/{signalement_id}/orientation",
    response_model=SignalementStaff | SignalementPublic,
)
async def orient(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    signalement_id: int,
    data: orientation.OrientIn,
) -> SignalementPublic:
    """« À orienter »: confirm the default routing, or re-route to another service."""
    await orientation.orient(
        session=session, signalement_id=signalement_id, actor=principal, data=data,
        base_url=base_url(request),
    )  # fmt: skip
    return await _page(session, principal, signalement_id)


@router.post(
    "/signalements/{signalement_id}/merge", response_model=SignalementStaff | SignalementPublic
)
async def merge(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    signalement_id: int,
    data: MergeIn,
) -> SignalementPublic:
    """Close this ticket as a duplicate of `into`, which gains its supports."""
    await lifecycle.merge(
        session=session,
        signalement_id=signalement_id,
        into=data.into,
        actor=principal,
        note=data.note,
        base_url=base_url(request),
    )
    return await _page(session, principal, signalement_id)


@router.post(
    "/signalements/{signalement_id}/supports",
    response_model=SupportResult,
    dependencies=[Depends(rate_limited("write"))],
)
async def add_support(
    request: Request, session: SessionDep, principal: OptionalPrincipal, signalement_id: int
) -> SupportResult:
    """A "me too" on an open ticket: once per account, or once per address without one."""
    user_id = principal.user_id if principal else None
    key = lifecycle.supporter_key(
        user_id=user_id, address=client_address(request), secret=request.app.state.secret_key
    )
    return await lifecycle.support(
        session=session, signalement_id=signalement_id, supporter=key, user_id=user_id
    )
