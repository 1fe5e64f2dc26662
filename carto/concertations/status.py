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


# How a status follows from the dates, first match wins: (code, column, test), where the
# test is "set" (the column is not null), "future" (now < column) or "past" (now >= column).
# The one definition of the rule: `concertation_status` reads it in Python and
# `status_sql` renders it for the public views (migration vw01), so they cannot drift.
STATUS_RULES: tuple[tuple[str, str, str], ...] = (
    ("archivee", "archived_at", "set"),
    ("a_venir", "opens_at", "future"),
    ("close", "closes_at", "past"),
)
DEFAULT_STATUS = "ouverte"


def concertation_status(
    opens_at: datetime, closes_at: datetime, archived_at: datetime | None, now: datetime
) -> str:
    """'a_venir', 'ouverte', 'close' or 'archivee' at `now`."""
    dates = {"opens_at": opens_at, "closes_at": closes_at, "archived_at": archived_at}
    for code, column, test in STATUS_RULES:
        value = dates[column]
        if (
            (test == "set" and value is not None)
            or (test == "future" and value is not None and now < value)
            or (test == "past" and value is not None and now >= value)
        ):
            return code
    return DEFAULT_STATUS


def status_sql(alias: str) -> str:
    """The same rule as a SQL expression over the concertation row `alias` at now()."""
    tests = {"set": "{c} IS NOT NULL", "future": "now() < {c}", "past": "now() >= {c}"}
    whens = " ".join(
        f"WHEN {tests[test].format(c=f'{alias}.{column}')} THEN '{code}'"
        for code, column, test in STATUS_RULES
    )
    return f"CASE {whens} ELSE '{DEFAULT_STATUS}' END"


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
