"""Derived states and the French labels of every code (no I/O).

A concertation's status comes from its dates and archive mark, computed when read,
so that it can never be stale: à venir, ouverte, close, archivée.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

STATUS_LABELS = {
    "a_venir": "À venir",
    "ouverte": "Ouverte",
    "close": "Close",
    "archivee": "Archivée",
}
KIND_LABELS = {"plu": "PLU", "plantation": "Plantation d'arbres", "autre": "Autre"}
PHASE_LABELS = {
    "information": "Information",
    "contribution": "Contributions",
    "analyse": "Analyse",
    "restitution": "Restitution",
}
CONTRIBUTION_KIND_LABELS = {
    "proposition": "Proposition",
    "constat": "Constat",
    "question": "Question",
}
CHANNEL_LABELS = {
    "online": "En ligne",
    "workshop": "Atelier",
    "kiosk": "Borne",
    "paper": "Papier",
    "assisted": "Saisie assistée",
}
ANSWER_LABELS = {
    "retenue": "Retenue",
    "a_l_etude": "À l'étude",
    "non_retenue": "Non retenue",
    "hors_sujet": "Hors sujet",
    "hors_competence": "Pas de notre compétence",
}
FLAG_LABELS = {
    "burst_account": "Rafale de contributions ou de votes d'un même compte",
    "burst_network": "Rafale depuis une même adresse réseau",
    "outside_perimeter": "Participant déclarant résider hors du périmètre",
}
DELETED_AUTHOR = "Participant supprimé"


def concertation_status(
    opens_at: datetime, closes_at: datetime, archived_at: datetime | None, now: datetime
) -> str:
    """'a_venir', 'ouverte', 'close' or 'archivee' at `now`."""
    if archived_at is not None:
        return "archivee"
    if now < opens_at:
        return "a_venir"
    if now >= closes_at:
        return "close"
    return "ouverte"


class _PhaseLike(Protocol):
    phase: str
    starts_at: datetime


def current_phase(phases: Sequence[_PhaseLike], now: datetime) -> str | None:
    """The latest phase that has started at `now` (None before the first one)."""
    started = [p for p in phases if p.starts_at <= now]
    return max(started, key=lambda p: p.starts_at).phase if started else None


def author_name(pseudonym: str | None, label: str | None) -> str:
    """What others see as the author: pseudonym, workshop label, or "deleted"."""
    return pseudonym or label or DELETED_AUTHOR
