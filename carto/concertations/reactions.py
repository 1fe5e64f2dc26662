"""Reactions to a contribution: argued votes, supports, threaded comments, reports.

One vote per participant and contribution: an upsert on (contribution, user), so
a second vote replaces the first even when two arrive at once. Counters on the
contribution follow through triggers (migration c001).
"""

from __future__ import annotations

from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from carto.accounts.deps import Principal
from carto.accounts.models import User
from carto.concertations.campaign import declared_outside, flag_vote_bursts
from carto.concertations.contributions import ConcertationClosed
from carto.concertations.models import Concertation
from carto.concertations.participation_models import (
    Comment,
    Contribution,
    Report,
    Support,
    Vote,
)
from carto.concertations.personal_data import hold_reason
from carto.concertations.schemas import (
    CommentInput,
    CommentPublic,
    MyReactions,
    ReportInput,
    ReportResult,
    SupportResult,
    VoteInput,
    VoteResult,
)
from carto.concertations.service import can_moderate, status_of
from carto.concertations.status import author_name
from carto.errors import InvalidInput, NotFound

MAX_DEPTH = 6


async def _contribution(session: AsyncSession, contribution_id: int) -> Contribution:
    """A published contribution (held and hidden ones take no reactions)."""
    found = (
        await session.get(Contribution, contribution_id) if 0 < contribution_id < 2**31 else None
    )
    if found is None or found.visibility != "published":
        raise NotFound("Contribution introuvable.")
    return found


async def _open(session: AsyncSession, contribution_id: int) -> tuple[Contribution, Concertation]:
    c = await _contribution(session, contribution_id)
    k = await session.get(Concertation, c.concertation_id)
    assert k is not None
    if status_of(k) != "ouverte":
        raise ConcertationClosed(
            f"La concertation « {k.title} » n'est pas ouverte : votes, soutiens et commentaires "
            "sont fermés.",
            status=status_of(k),
        )
    return c, k


async def _counts(session: AsyncSession, contribution_id: int) -> tuple[int, int, int]:
    row = (
        await session.execute(
            text("SELECT votes_for, votes_against, supports FROM contribution WHERE id = :id"),
            {"id": contribution_id},
        )
    ).one()
    return int(row.votes_for), int(row.votes_against), int(row.supports)


async def cast_vote(
    *, session: AsyncSession, contribution_id: int, data: VoteInput, principal: Principal,
    ip_hash: str | None = None,
) -> VoteResult:  # fmt: skip
    """Agree or disagree; a second vote by the same participant replaces the first.

    A vote from an account whose address is unconfirmed is stored flagged
    `unconfirmed`: the counters and the synthesis leave it out until confirmation. The
    author's vote on their own contribution is stored flagged `own` and never counted
    (the contract takes one vote per participant; migration v017)."""
    c, k = await _open(session, contribution_id)
    own = c.author_id == principal.user_id
    outside = await declared_outside(
        session=session, concertation_id=k.id, user_id=principal.user_id
    )
    flags = ["outside_perimeter"] if outside else []
    if own:
        flags.append("own")
    confirmed = await session.scalar(
        select(User.email_verified).where(User.id == principal.user_id)
    )
    if not confirmed:  # kept, counted once the address is confirmed (migration v016)
        flags.append("unconfirmed")
    statement = (
        insert(Vote)
        .values(
            contribution_id=c.id,
            concertation_id=c.concertation_id,
            user_id=principal.user_id,
            value=data.value,
            reason=data.reason,
            ip_hash=ip_hash,
            flags=flags,
        )  # fmt: skip
        .on_conflict_do_update(
            index_elements=["contribution_id", "user_id"],
            set_={
                "value": data.value,
                "reason": data.reason,
                "ip_hash": ip_hash,
                "updated_at": text("now()"),
                "flags": text(
                    "ARRAY(SELECT DISTINCT f FROM unnest(contribution_vote.flags "
                    "|| excluded.flags) AS f)"
                ),
            },  # fmt: skip
        )
        .returning(text("(xmax = 0) AS inserted"))
    )
    inserted = bool((await session.execute(statement)).scalar_one())
    await flag_vote_bursts(
        session=session, concertation_id=k.id, user_id=principal.user_id, ip_hash=ip_hash
    )
    await session.commit()
    votes_for, votes_against, _ = await _counts(session, c.id)
    return VoteResult(
        contribution_id=c.id, value=data.value, reason=data.reason, replaced=not inserted,
        votes_for=votes_for, votes_against=votes_against, counted=bool(confirmed) and not own,
    )  # fmt: skip


async def my_reactions(
    *, session: AsyncSession, concertation_id: int, principal: Principal
) -> MyReactions:
    """The caller's own votes, supports and contributions in one concertation, so a page
    reloaded shows what they did (and offers no vote on their own contributions)."""
    params = {"k": concertation_id, "u": principal.user_id}
    votes = await session.execute(
        text("SELECT contribution_id, value FROM contribution_vote "
             "WHERE concertation_id = :k AND user_id = :u"), params,
    )  # fmt: skip
    supports = await session.scalars(
        text("SELECT contribution_id FROM contribution_support "
             "WHERE concertation_id = :k AND user_id = :u ORDER BY 1"), params,
    )  # fmt: skip
    mine = await session.scalars(
        text("SELECT id FROM contribution WHERE concertation_id = :k AND author_id = :u "
             "ORDER BY id"), params,
    )  # fmt: skip
    return MyReactions(
        votes={str(r.contribution_id): int(r.value) for r in votes},
        supports=list(supports), contributions=list(mine),
    )  # fmt: skip


async def withdraw_vote(
    *, session: AsyncSession, contribution_id: int, principal: Principal
) -> None:
    c, _ = await _open(session, contribution_id)
    await session.execute(
        delete(Vote).where(Vote.contribution_id == c.id, Vote.user_id == principal.user_id)
    )
    await session.commit()


async def set_support(
    *, session: AsyncSession, contribution_id: int, principal: Principal, supported: bool
) -> SupportResult:
    """Support (idempotent) or withdraw one's support."""
    c, _ = await _open(session, contribution_id)
    if supported:
        await session.execute(
            insert(Support)
            .values(
                contribution_id=c.id, concertation_id=c.concertation_id, user_id=principal.user_id
            )
            .on_conflict_do_nothing(index_elements=["contribution_id", "user_id"])
        )
    else:
        await session.execute(
            delete(Support).where(
                Support.contribution_id == c.id, Support.user_id == principal.user_id
            )
        )
    await session.commit()
    _, _, supports = await _counts(session, c.id)
    return SupportResult(contribution_id=c.id, supported=supported, supports=supports)


async def _depth(session: AsyncSession, parent: Comment) -> int:
    depth = await session.scalar(
        text(
            """WITH RECURSIVE up(id, parent_id, d) AS (
                 SELECT id, parent_id, 1 FROM contribution_comment WHERE id = :id
                 UNION ALL SELECT c.id, c.parent_id, up.d + 1
                 FROM contribution_comment c JOIN up ON c.id = up.parent_id)
               SELECT max(d) FROM up"""
        ),
        {"id": parent.id},
    )
    return int(depth or 1)


async def add_comment(
    *, session: AsyncSession, contribution_id: int, data: CommentInput, principal: Principal,
    ip_hash: str | None = None,
) -> CommentPublic:  # fmt: skip
    """A comment or a reply; held for a moderator when it seems to hold personal data."""
    c, _ = await _open(session, contribution_id)
    if data.parent_id is not None:
        parent = await session.get(Comment, data.parent_id)
        if parent is None or parent.contribution_id != c.id or parent.visibility == "held":
            raise InvalidInput("Le commentaire auquel vous répondez n'existe pas ici.")
        if await _depth(session, parent) >= MAX_DEPTH:
            raise InvalidInput(f"Les fils de discussion s'arrêtent à {MAX_DEPTH} niveaux.")
    held = hold_reason(data.body)
    comment = Comment(
        contribution_id=c.id, concertation_id=c.concertation_id, parent_id=data.parent_id,
        author_id=principal.user_id,
        body=data.body, ip_hash=ip_hash, visibility="held" if held else "published",
        hold_reason=held,
    )  # fmt: skip
    session.add(comment)
    await session.flush()
    await session.refresh(comment)
    await session.commit()
    return CommentPublic(
        id=comment.id, parent_id=comment.parent_id, author=principal.pseudonym, body=comment.body,
        visibility=comment.visibility, moderation_reason=None,  # type: ignore[arg-type]
        created_at=comment.created_at,
    )  # fmt: skip


async def list_comments(
    *, session: AsyncSession, contribution_id: int, viewer: Principal | None = None
) -> list[CommentPublic]:
    """Threads, oldest first; hidden comments keep their place with the public reason."""
    c = await _contribution(session, contribution_id)
    k = await session.get(Concertation, c.concertation_id)
    moderator = viewer is not None and k is not None and can_moderate(viewer, k)
    rows = await session.execute(
        select(Comment, User.pseudonym)
        .outerjoin(User, User.id == Comment.author_id)
        .where(Comment.contribution_id == c.id)
        .order_by(Comment.created_at, Comment.id)
    )
    nodes: dict[int, CommentPublic] = {}
    roots: list[CommentPublic] = []
    for comment, pseudonym in rows:
        mine = viewer is not None and viewer.user_id == comment.author_id
        if comment.visibility == "held" and not (mine or moderator):
            continue
        node = CommentPublic(
            id=comment.id, parent_id=comment.parent_id, author=author_name(pseudonym, None),
            body=None if comment.visibility == "hidden" else comment.body,
            visibility=comment.visibility,  # type: ignore[arg-type]
            moderation_reason=comment.moderation_reason, created_at=comment.created_at,
        )  # fmt: skip
        nodes[comment.id] = node
        parent = nodes.get(comment.parent_id) if comment.parent_id else None
        (parent.replies if parent else roots).append(node)
    return roots


async def report(
    *, session: AsyncSession, principal: Principal, data: ReportInput,
    contribution_id: int | None = None, comment_id: int | None = None,
) -> ReportResult:  # fmt: skip
    """A participant's report for moderators; reporting the same thing twice counts once."""
    if contribution_id is not None:
        await _contribution(session, contribution_id)
        where = "comment_id IS NULL"
        conflict = ["reporter_id", "contribution_id"]
    else:
        target = await session.get(Comment, comment_id) if 0 < (comment_id or 0) < 2**31 else None
        if target is None or target.visibility != "published":
            raise NotFound("Commentaire introuvable.")
        where = "contribution_id IS NULL"
        conflict = ["reporter_id", "comment_id"]
    inserted = await session.scalar(
        insert(Report)
        .values(
            contribution_id=contribution_id,
            comment_id=comment_id,
            reporter_id=principal.user_id,
            reason=data.reason,
        )  # fmt: skip
        .on_conflict_do_nothing(index_elements=conflict, index_where=text(where))
        .returning(Report.id)
    )
    if inserted is None:
        existing = await session.scalar(
            select(Report.id).where(
                Report.reporter_id == principal.user_id,
                Report.contribution_id.is_(None)
                if contribution_id is None
                else Report.contribution_id == contribution_id,
                Report.comment_id.is_(None)
                if comment_id is None
                else Report.comment_id == comment_id,
            )
        )
        return ReportResult(id=int(existing or 0), already_reported=True)
    await session.commit()
    return ReportResult(id=int(inserted))
