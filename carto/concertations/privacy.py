"""What a participant leaves in concertations, for the account export and the erasure.

Contributions, votes and comments stay after an account is deleted (the debate keeps
its record) and show "participant supprimé", since the pseudonym is scrubbed from the
account itself; what is personal to the person alone (residence declarations, the
network-address hashes used against campaigns) is removed here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from carto.accounts.privacy import PersonalDataProvider, Processing
from carto.concertations.models import Concertation
from carto.concertations.participation_models import Comment, Contribution, Residence, Vote


async def export(session: AsyncSession, user_id: int) -> dict[str, Any]:
    contributions = await session.execute(
        select(Contribution, Concertation.slug)
        .join(Concertation, Concertation.id == Contribution.concertation_id)
        .where(Contribution.author_id == user_id)
        .order_by(Contribution.id)
    )
    votes = await session.execute(
        select(Vote.contribution_id, Vote.value, Vote.reason, Vote.created_at)
        .where(Vote.user_id == user_id)
        .order_by(Vote.contribution_id)
    )
    comments = await session.execute(
        select(Comment.id, Comment.contribution_id, Comment.body, Comment.created_at)
        .where(Comment.author_id == user_id)
        .order_by(Comment.id)
    )
    return {
        "contributions": [
            {
                "id": c.id,
                "concertation": slug,
                "titre": c.title,
                "texte": c.body,
                "cree_le": c.created_at.isoformat(),
            }
            for c, slug in contributions
        ],  # fmt: skip
        "votes": [
            {"contribution": cid, "valeur": value, "motif": reason, "le": at.isoformat()}
            for cid, value, reason, at in votes
        ],
        "commentaires": [
            {"id": i, "contribution": cid, "texte": body, "le": at.isoformat()}
            for i, cid, body, at in comments
        ],
    }


async def anonymize(session: AsyncSession, user_id: int) -> None:
    await session.execute(delete(Residence).where(Residence.user_id == user_id))
    for model, owner in ((Contribution, Contribution.author_id), (Vote, Vote.user_id),
                         (Comment, Comment.author_id)):  # fmt: skip
        await session.execute(update(model).where(owner == user_id).values(ip_hash=None))


PROVIDER = PersonalDataProvider(
    name="concertations",
    export=export,
    anonymize=anonymize,
    processing=(
        Processing(
            name="Contributions aux concertations",
            data="Pseudonyme (public), contributions, votes, commentaires ; empreinte "
            "journalière salée de l'adresse IP ; commune de résidence déclarée",
            purpose="Recueillir et restituer les avis ; détecter les campagnes organisées",
            legal_basis="Mission d'intérêt public (participation du public, code de l'urbanisme)",
            retention="Contributions publiées sans limite (archives de la concertation) ; "
            "empreintes réseau et déclarations de résidence jusqu'à la suppression du compte",
            recipients="Public (contributions, pseudonyme) ; modérateurs et organisateurs",
        ),
    ),
)
