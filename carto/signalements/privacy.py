"""The reporters' personal data, for the account export, the erasure and the register.

On erasure the report stays (the problem is still there) but nothing ties it to
the person any more: contact fields, address and account link are cleared.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from carto.accounts.privacy import PersonalDataProvider, Processing
from carto.signalements.models import Signalement, SignalementReporter, SignalementSupport


async def export(session: AsyncSession, user_id: int) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(Signalement, SignalementReporter)
        .join(SignalementReporter, SignalementReporter.signalement_id == Signalement.id)
        .where(SignalementReporter.user_id == user_id)
        .order_by(Signalement.id)
    )
    return [
        {
            "numero": sig.id,
            "categorie": sig.category_code,
            "etat": sig.state,
            "description": rep.description_original or sig.description,
            "adresse": sig.address_string,
            "cree_le": sig.created_at.isoformat(),
            "email": rep.email,
            "prenom": rep.first_name,
            "nom": rep.last_name,
            "adresse_ip": rep.ip,
        }
        for sig, rep in rows
    ]


async def anonymize(session: AsyncSession, user_id: int) -> None:
    await session.execute(
        update(SignalementReporter)
        .where(SignalementReporter.user_id == user_id)
        .values(
            user_id=None,
            email=None,
            first_name=None,
            last_name=None,
            ip=None,
            description_original=None,
            account_id=None,
        )
    )
    # Supports keep counting, but no longer point at the person.
    await session.execute(
        update(SignalementSupport)
        .where(SignalementSupport.user_id == user_id)
        .values(user_id=None, supporter=func.concat("x:", func.gen_random_uuid()))
    )


async def purge_closed_contacts(session: AsyncSession, settings: Any) -> int:
    """Clear the reporters' contact data of tickets closed more than N days ago
    (`CARTO_SIGNALEMENT_CONTACT_RETENTION_DAYS`, 0 keeps them)."""
    days = int(getattr(settings, "signalement_contact_retention_days", 0) or 0)
    if days <= 0:
        return 0
    result = await session.execute(
        text(
            """UPDATE signalement_reporter r
               SET email = NULL, first_name = NULL, last_name = NULL, ip = NULL,
                   description_original = NULL, account_id = NULL
               FROM signalement s
               WHERE s.id = r.signalement_id AND s.status = 'closed'
                 AND s.closed_at < now() - make_interval(days => :days)
                 AND (r.email IS NOT NULL OR r.first_name IS NOT NULL
                      OR r.last_name IS NOT NULL OR r.ip IS NOT NULL
                      OR r.description_original IS NOT NULL OR r.account_id IS NOT NULL)"""
        ),
        {"days": days},
    )
    return int(getattr(result, "rowcount", 0) or 0)


PROVIDER = PersonalDataProvider(
    name="signalements",
    export=export,
    anonymize=anonymize,
    processing=(
        Processing(
            name="Signalements",
            data="Adresse e-mail, prénom et nom (facultatifs), compte, adresse IP de l'envoi, "
            "coordonnées écrites dans la description (masquées dans le texte public)",
            purpose="Transmettre le signalement au service compétent, informer son auteur "
            "de son traitement, lutter contre les abus",
            legal_basis="Mission d'intérêt public",
            retention="Coordonnées effacées un an après la clôture du signalement "
            "(réglable : CARTO_SIGNALEMENT_CONTACT_RETENTION_DAYS)",
            recipients="Agents du service compétent et administrateurs de sa collectivité ; "
            "jamais publiés",
        ),
    ),
    retention=purge_closed_contacts,
)
