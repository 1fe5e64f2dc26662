"""Moderation a posteriori, and the organisers' official answers.

Moderators hide or restore with a public reason, release what the personal-data
check held back, and clear campaign flags they judge unfounded; every action is
logged (`moderation_event`) and closes the open reports on its target. Official
answers belong to the administrators of the authorities running the concertation.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from carto.accounts.deps import Principal
from carto.concertations.models import Concertation
from carto.concertations.participation_models import (
    Answer,
    Comment,
    Contribution,
    ModerationEvent,
    Report,
)
from carto.concertations.schemas import (
    AnswerInput,
    AnswerPublic,
    ModerationInput,
    ModerationQueue,
    ModerationResult,
    QueueItem,
)
from carto.concertations.service import can_moderate, is_organiser_admin, organiser_ids
from carto.concertations.status import ANSWER_LABELS, FLAG_LABELS, author_name
from carto.errors import Conflict, Forbidden, InvalidInput, NotFound
from carto.territories.models import Authority

QUEUE_LIMIT = 200


async def _target(
    session: AsyncSession, kind: str, target_id: int
) -> tuple[Contribution | Comment, Concertation]:
    model: Any = Contribution if kind == "contribution" else Comment
    item = await session.get(model, target_id) if 0 < target_id < 2**31 else None
    if item is None:
        raise NotFound(
            "Contribution introuvable." if kind == "contribution" else "Commentaire introuvable."
        )
    contribution_id = item.id if kind == "contribution" else item.contribution_id
    contribution = await session.get(Contribution, contribution_id)
    assert contribution is not None
    k = await session.get(Concertation, contribution.concertation_id)
    assert k is not None
    return item, k


def _apply(item: Contribution | Comment, data: ModerationInput) -> None:
    if data.action == "hide":
        if len(data.reason) < 3:
            raise InvalidInput("Masquer demande un motif public (au moins 3 caractères).")
        if item.visibility == "hidden":
            raise Conflict("Déjà masqué.")
        item.visibility, item.moderation_reason = "hidden", data.reason
    elif data.action == "restore":
        if item.visibility != "hidden":
            raise Conflict("Seul un élément masqué peut être rétabli.")
        item.visibility, item.moderation_reason = "published", None
    elif data.action == "release":
        if item.visibility != "held":
            raise Conflict("Seul un élément retenu peut être publié.")
        item.visibility, item.hold_reason = "published", None
    else:
        if not isinstance(item, Contribution):
            raise InvalidInput("Les commentaires ne portent pas de signalement de campagne.")
        item.flags = []


async def moderate(
    *, session: AsyncSession, principal: Principal, target: str, target_id: int,
    data: ModerationInput,
) -> ModerationResult:  # fmt: skip
    """Hide, restore, release or clear flags on a contribution or a comment."""
    item, k = await _target(session, target, target_id)
    if not can_moderate(principal, k):
        raise Forbidden("Réservé aux modérateurs.")
    _apply(item, data)
    column = Report.contribution_id if target == "contribution" else Report.comment_id
    resolved = await session.execute(
        update(Report)
        .where(column == item.id, Report.resolved_at.is_(None))
        .values(resolved_at=func.now())
    )
    session.add(
        ModerationEvent(
            contribution_id=item.id if target == "contribution" else None,
            comment_id=item.id if target == "comment" else None,
            moderator_id=principal.user_id,
            action=data.action,
            reason=data.reason,
        )  # fmt: skip
    )
    await session.commit()
    return ModerationResult(
        target=target,  # type: ignore[arg-type]
        id=item.id,
        visibility=item.visibility,  # type: ignore[arg-type]
        moderation_reason=item.moderation_reason,
        flags=list(item.flags) if isinstance(item, Contribution) else [],
        reports_resolved=int(getattr(resolved, "rowcount", 0) or 0),
    )


_QUEUE_SQL = """
WITH open_reports AS (
  SELECT contribution_id, comment_id, count(*) AS n, array_agg(reason ORDER BY id) AS reasons
    FROM moderation_report WHERE resolved_at IS NULL GROUP BY contribution_id, comment_id),
items AS (
  SELECT 'contribution' AS target, c.id, c.id AS contribution_id, c.concertation_id, c.title,
         c.body, c.author_id, c.author_label, c.visibility, c.hold_reason,
         c.flags::text[] AS flags, c.created_at, r.n, r.reasons
    FROM contribution c LEFT JOIN open_reports r ON r.contribution_id = c.id
  UNION ALL
  SELECT 'comment', m.id, m.contribution_id, c.concertation_id, NULL, m.body, m.author_id, NULL,
         m.visibility, m.hold_reason, '{}'::text[], m.created_at, r.n, r.reasons
    FROM contribution_comment m JOIN contribution c
      ON c.id = m.contribution_id AND c.concertation_id = m.concertation_id
    LEFT JOIN open_reports r ON r.comment_id = m.id)
SELECT i.*, k.slug AS concertation, u.pseudonym
  FROM items i JOIN concertation k ON k.id = i.concertation_id
  LEFT JOIN app_user u ON u.id = i.author_id
 WHERE (CAST(:all AS boolean) OR i.concertation_id = ANY(:ks))
   AND (CAST(:k AS integer) IS NULL OR i.concertation_id = :k)
   AND {condition}
 ORDER BY i.created_at LIMIT :limit
"""

_QUEUE_CONDITIONS = {
    "held": "i.visibility = 'held'",
    "reported": "i.visibility = 'published' AND i.n IS NOT NULL",
    "flagged": "i.visibility = 'published' AND cardinality(i.flags) > 0",
}


async def queue(
    *, session: AsyncSession, principal: Principal, concertation_id: int | None = None
) -> ModerationQueue:
    """What moderators should look at: held texts, reported items, campaign flags."""
    moderator = "moderator" in principal.roles
    ks: list[int] = []
    if not moderator:
        rows = await session.execute(
            text("SELECT concertation_id, authority_id FROM concertation_authority")
        )
        ks = [r.concertation_id for r in rows if principal.is_admin_of(r.authority_id)]
        if not ks:
            raise Forbidden("Réservé aux modérateurs.")
    params = {"all": moderator, "ks": ks, "k": concertation_id, "limit": QUEUE_LIMIT}
    out: dict[str, list[QueueItem]] = {}
    for name, condition in _QUEUE_CONDITIONS.items():
        rows = await session.execute(text(_QUEUE_SQL.replace("{condition}", condition)), params)
        out[name] = [
            QueueItem(
                target=r.target,
                id=r.id,
                contribution_id=r.contribution_id,
                concertation=r.concertation,
                title=r.title,
                body=r.body,
                author=author_name(r.pseudonym, r.author_label),
                visibility=r.visibility,
                hold_reason=r.hold_reason,
                flags=list(r.flags),
                flag_labels=[FLAG_LABELS.get(f, f) for f in r.flags],
                reports=int(r.n or 0),
                report_reasons=list(r.reasons or []),
                created_at=r.created_at,
            )  # fmt: skip
            for r in rows
        ]
    return ModerationQueue(**out)


async def set_answer(
    *, session: AsyncSession, contribution_id: int, data: AnswerInput, principal: Principal
) -> AnswerPublic:
    """Give or revise the official answer to a contribution, in the organiser's name."""
    c, k = await _target(session, "contribution", contribution_id)
    if not is_organiser_admin(principal, k):
        raise Forbidden(
            "Seuls les administrateurs des collectivités organisatrices répondent officiellement."
        )
    if k.archived_at is not None:
        raise Conflict("Cette concertation est archivée : ses réponses sont figées.")
    if c.visibility != "published":
        raise Conflict("Cette contribution n'est pas publiée : publiez-la avant d'y répondre.")
    authority_id = min(principal.admin_authority_ids & organiser_ids(k))
    values = {"status": data.status, "text": data.text, "authority_id": authority_id,
              "answered_by_id": principal.user_id}  # fmt: skip
    await session.execute(
        insert(Answer)
        .values(contribution_id=c.id, **values)
        .on_conflict_do_update(
            index_elements=["contribution_id"], set_={**values, "updated_at": func.now()}
        )
    )
    await session.commit()
    row = (
        await session.execute(
            select(Answer, Authority.name)
            .join(Authority, Authority.id == Answer.authority_id)
            .where(Answer.contribution_id == c.id)
            .execution_options(populate_existing=True)
        )
    ).one()
    answer, name = row
    return AnswerPublic.model_validate(
        {
            "status": answer.status,
            "label": ANSWER_LABELS[answer.status],
            "text": answer.text,
            "authority": name,
            "answered_at": answer.updated_at,
        }  # fmt: skip
    )
