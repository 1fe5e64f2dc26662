"""`/api/v1` routes of concertations: reading, contributing, reacting, the synthesis.

Thin: parse, call the service, shape the answer. Staff routes (moderation, official
answers, administration, layer upload) are in `router_staff.py`, included here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from carto.accounts.deps import CitizenPrincipal, CurrentPrincipal, OptionalPrincipal
from carto.concertations import contributions, public_read, reactions, service
from carto.concertations.campaign import declare_residence, network_hash
from carto.concertations.report import build_report, report_policy
from carto.concertations.router_staff import router as staff_router
from carto.concertations.schemas import (
    CommentInput,
    CommentPublic,
    ConcertationDetail,
    ConcertationPublic,
    ContributionCollection,
    ContributionFeature,
    ContributionFeatureIn,
    ContributionKind,
    ContributionSort,
    MyReactions,
    ReportInput,
    ReportResult,
    ResidenceInput,
    ResidenceResult,
    SupportResult,
    VoteInput,
    VoteResult,
)
from carto.concertations.synthesis import build_synthesis, session_runner
from carto.deps import BBoxDep, PublicSessionDep, ReadSessionDep, SessionDep, client_address
from carto.errors import Forbidden
from carto.idempotency import OPENAPI_EXTRA, begin, caller_scope, claim_of, record
from carto.ratelimit import rate_limited

router = APIRouter(tags=["concertations"])
router.include_router(staff_router)


def client_hash(request: Request) -> str | None:
    """Today's keyed hash of the caller's address (the address itself is never kept)."""
    return network_hash(
        client_address(request), request.app.state.secret_key, datetime.now(UTC).date()
    )


IpHash = Annotated[str | None, Depends(client_hash)]


@router.get("/concertations", response_model=list[ConcertationPublic])
async def list_concertations(session: PublicSessionDep) -> list[ConcertationPublic]:
    """All concertations, open, closed and archived, with perimeter and themes.
    Read from the public views, as the reader role (the same answer for everyone)."""
    return await public_read.list_concertations(session=session)


@router.get("/concertations/{ref}", response_model=ConcertationDetail)
async def concertation(ref: str, session: PublicSessionDep) -> ConcertationDetail:
    """One concertation by id or slug, with its phases and reference layers (reader role)."""
    return await public_read.concertation_detail(session=session, ref=ref)


@router.get("/concertations/{ref}/contributions", response_model=ContributionCollection)
async def concertation_contributions(
    ref: str, request: Request, session: PublicSessionDep, bbox: BBoxDep,
    theme: Annotated[str | None, Query(max_length=80, pattern=r"^[a-z0-9-]+$")] = None,
    kind: Annotated[ContributionKind | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 500,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    q: Annotated[str | None, Query(max_length=200)] = None,
    sort: Annotated[ContributionSort, Query()] = "oldest",
    answered: Annotated[bool | None, Query()] = None,
) -> ContributionCollection:  # fmt: skip
    """Published contributions as GeoJSON (readable forever, even once archived), read
    from the public views as the reader role; `q` searches the title and text, `sort` is
    `oldest` (default), `newest`, `supported` or `answered`."""
    cap = min(limit, request.app.state.settings.max_page_size)
    return await public_read.list_contributions(
        session=session, ref=ref, theme=theme, kind=kind, bbox=bbox, limit=cap,
        offset=offset, q=q, sort=sort, answered=answered,
    )  # fmt: skip


@router.post(
    "/concertations/{ref}/contributions",
    response_model=ContributionFeature,
    status_code=201,
    dependencies=[Depends(rate_limited("contribution"))],
    openapi_extra=OPENAPI_EXTRA,
)
async def contribute(
    ref: str, feature: ContributionFeatureIn, principal: CurrentPrincipal, session: SessionDep,
    ip_hash: IpHash, request: Request,
) -> ContributionFeature | Response:  # fmt: skip
    """Add a contribution (a GeoJSON Feature); staff may enter workshop or paper input.
    With an `Idempotency-Key`, a retry answers the first answer again."""
    if feature.properties.channel == "online" and "citizen" not in principal.roles:
        raise Forbidden("Il faut un compte participant pour contribuer en ligne.")
    claim = await claim_of(request, caller_scope(request, user_id=principal.user_id))
    if claim is None:
        return await contributions.create_contribution(
            session=session, ref=ref, feature=feature, principal=principal, ip_hash=ip_hash
        )
    if (replay := await begin(session, claim)) is not None:
        return replay
    created = await contributions.create_contribution(
        session=session, ref=ref, feature=feature, principal=principal, ip_hash=ip_hash,
        commit=False,
    )  # fmt: skip
    response = JSONResponse(created.model_dump(mode="json", by_alias=True), status_code=201)
    await record(session, claim, response)  # committed with the contribution
    await session.commit()
    return response


@router.get("/concertations/{ref}/mine", response_model=MyReactions)
async def mine(ref: str, principal: CurrentPrincipal, session: SessionDep) -> MyReactions:
    """The caller's own votes, supports and contributions here (shown after a reload)."""
    k = await service.load_concertation(session=session, ref=ref)
    return await reactions.my_reactions(session=session, concertation_id=k.id, principal=principal)


@router.put(
    "/concertations/{ref}/residence",
    response_model=ResidenceResult,
    dependencies=[Depends(rate_limited("write"))],
)
async def residence(
    ref: str, data: ResidenceInput, principal: CitizenPrincipal, session: SessionDep
) -> ResidenceResult:
    """Say whether you live inside the perimeter (or give your commune's INSEE code)."""
    k = await service.load_concertation(session=session, ref=ref)
    return await declare_residence(session=session, c=k, principal=principal, data=data)


@router.get("/concertations/{ref}/synthesis")
async def synthesis(
    ref: str, session: PublicSessionDep,
    eps_m: Annotated[float, Query(ge=10, le=5000)] = 300.0,
    min_points: Annotated[int, Query(ge=2, le=100)] = 5,
    groups: Annotated[int | None, Query(ge=2, le=12)] = None,
) -> dict[str, object]:  # fmt: skip
    """Counts, participation per 1,000 inhabitants, rankings, hotspots, text themes.
    Read from the public views, as the reader role (the same answer for everyone)."""
    k = await public_read.concertation_page(session, ref)
    return await build_synthesis(
        session_runner(session), k["id"], eps_m=eps_m, min_points=min_points, groups=groups
    )


@router.get("/concertations/{ref}/synthesis.html", response_class=HTMLResponse)
async def synthesis_html(ref: str, session: PublicSessionDep) -> HTMLResponse:
    """The synthesis as a self-contained HTML report with a map (reader role)."""
    k = await public_read.concertation_page(session, ref)
    page = await build_report(session_runner(session), k["id"])
    headers = {
        "Content-Disposition": f'inline; filename="{k["slug"]}.html"',
        "Content-Security-Policy": report_policy(),
    }
    return HTMLResponse(page, headers=headers)


@router.get("/contributions/{contribution_id}", response_model=ContributionFeature)
async def contribution(
    contribution_id: int, session: ReadSessionDep, public: PublicSessionDep,
    viewer: OptionalPrincipal,
) -> ContributionFeature:  # fmt: skip
    """One contribution. Anonymous callers read the public views as the reader role;
    signed-in ones the tables (its author and the moderators also see a held one)."""
    if viewer is None:
        return await public_read.get_contribution(session=public, contribution_id=contribution_id)
    return await contributions.get_contribution(
        session=session, contribution_id=contribution_id, viewer=viewer
    )


@router.post(
    "/contributions/{contribution_id}/votes",
    response_model=VoteResult,
    responses={201: {"model": VoteResult}},
    dependencies=[Depends(rate_limited("vote"))],
)
async def vote(
    contribution_id: int, data: VoteInput, principal: CitizenPrincipal, session: SessionDep,
    ip_hash: IpHash, response: Response,
) -> VoteResult:  # fmt: skip
    """Agree (1) or disagree (-1); 201 for a first vote, 200 when it replaces the previous."""
    result = await reactions.cast_vote(
        session=session, contribution_id=contribution_id, data=data, principal=principal,
        ip_hash=ip_hash,
    )  # fmt: skip
    response.status_code = 200 if result.replaced else 201
    return result


@router.delete(
    "/contributions/{contribution_id}/votes",
    status_code=204,
    dependencies=[Depends(rate_limited("vote"))],
)
async def withdraw_vote(
    contribution_id: int, principal: CitizenPrincipal, session: SessionDep
) -> Response:
    await reactions.withdraw_vote(
        session=session, contribution_id=contribution_id, principal=principal
    )
    return Response(status_code=204)


@router.post(
    "/contributions/{contribution_id}/supports",
    response_model=SupportResult,
    dependencies=[Depends(rate_limited("vote"))],
)
async def support(
    contribution_id: int, principal: CitizenPrincipal, session: SessionDep
) -> SupportResult:
    """Support a contribution (doing it twice counts once)."""
    return await reactions.set_support(
        session=session, contribution_id=contribution_id, principal=principal, supported=True
    )


@router.delete(
    "/contributions/{contribution_id}/supports",
    response_model=SupportResult,
    dependencies=[Depends(rate_limited("vote"))],
)
async def unsupport(
    contribution_id: int, principal: CitizenPrincipal, session: SessionDep
) -> SupportResult:
    return await reactions.set_support(
        session=session, contribution_id=contribution_id, principal=principal, supported=False
    )


@router.get("/contributions/{contribution_id}/comments", response_model=list[CommentPublic])
async def comments(
    contribution_id: int, session: ReadSessionDep, public: PublicSessionDep,
    viewer: OptionalPrincipal,
) -> list[CommentPublic]:  # fmt: skip
    """The discussion threads of a contribution: as the reader role for anonymous
    callers; signed-in ones also see their own held comments (moderators all)."""
    if viewer is None:
        return await public_read.list_comments(session=public, contribution_id=contribution_id)
    return await reactions.list_comments(
        session=session, contribution_id=contribution_id, viewer=viewer
    )


@router.post(
    "/contributions/{contribution_id}/comments",
    response_model=CommentPublic,
    status_code=201,
    dependencies=[Depends(rate_limited("comment"))],
)
async def comment(
    contribution_id: int, data: CommentInput, principal: CitizenPrincipal, session: SessionDep,
    ip_hash: IpHash,
) -> CommentPublic:  # fmt: skip
    return await reactions.add_comment(
        session=session, contribution_id=contribution_id, data=data, principal=principal,
        ip_hash=ip_hash,
    )  # fmt: skip


@router.post(
    "/contributions/{contribution_id}/reports",
    response_model=ReportResult,
    status_code=201,
    dependencies=[Depends(rate_limited("write"))],
)
async def report_contribution(
    contribution_id: int, data: ReportInput, principal: CitizenPrincipal, session: SessionDep
) -> ReportResult:
    """Report a contribution to the moderators."""
    return await reactions.report(
        session=session, principal=principal, data=data, contribution_id=contribution_id
    )


@router.post(
    "/comments/{comment_id}/reports",
    response_model=ReportResult,
    status_code=201,
    dependencies=[Depends(rate_limited("write"))],
)
async def report_comment(
    comment_id: int, data: ReportInput, principal: CitizenPrincipal, session: SessionDep
) -> ReportResult:
    return await reactions.report(
        session=session, principal=principal, data=data, comment_id=comment_id
    )
