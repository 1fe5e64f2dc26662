"""The ticket lifecycle as data: states, labels, and the transitions each actor may make.

    submitted → routed → acknowledged → in_progress → resolved | rejected
    resolved | rejected → reopened (staff; or the reporter within a delay)
    open states → duplicate (an agent merges the ticket into another)

`staff` means an agent of the assigned service or an administrator of its
authority. A transfer to another service is not a transition: it puts an open
ticket back to `routed` for the new service, recorded as a `transfer` event.
"""

from __future__ import annotations

from dataclasses import dataclass

STATES = (
    "submitted",
    "routed",
    "acknowledged",
    "in_progress",
    "resolved",
    "rejected",
    "reopened",
    "duplicate",
)
CLOSED = frozenset({"resolved", "rejected", "duplicate"})
OPEN = frozenset(STATES) - CLOSED
LABELS = {
    "submitted": "reçu",
    "routed": "transmis au service compétent",
    "acknowledged": "pris en compte",
    "in_progress": "en cours de traitement",
    "resolved": "résolu",
    "rejected": "rejeté",
    "reopened": "rouvert",
    "duplicate": "doublon",
}
# What the transitions route accepts ("duplicate" goes through a merge, "routed" through
# intake or a transfer), with the label of the agent's action for each.
ACTION_LABELS = {
    "acknowledged": "Prendre en compte",
    "in_progress": "Démarrer le traitement",
    "resolved": "Marquer comme résolu",
    "rejected": "Rejeter (motif obligatoire)",
    "reopened": "Rouvrir",
}
REQUESTABLE = tuple(ACTION_LABELS)
# History events other than a plain state change (signalement_event.kind), as the
# timeline names them.
EVENT_LABELS = {"transfer": "Transféré", "merge": "Fusionné", "address": "Adresse corrigée"}
# Where a report's address came from (carto.signalements.address).
ADDRESS_SOURCE_LABELS = {
    "reverse": "trouvée d'après la position du signalement",
    "citizen": "indiquée par le déclarant",
    "staff": "corrigée par le service",
}


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    by: frozenset[str]
    note_required: bool = False


STAFF = frozenset({"staff"})
STAFF_OR_REPORTER = frozenset({"staff", "reporter"})
SYSTEM = frozenset({"system"})

_WORK = ("acknowledged", "in_progress", "resolved", "rejected")
TRANSITIONS: tuple[Transition, ...] = (
    Transition("submitted", "routed", SYSTEM),
    *(
        Transition(src, dst, STAFF, note_required=dst == "rejected")
        for src, targets in {
            "routed": _WORK,
            "acknowledged": _WORK[1:],
            "in_progress": _WORK[2:],
            "reopened": _WORK,
        }.items()
        for dst in targets
    ),
    Transition("resolved", "reopened", STAFF_OR_REPORTER),
    Transition("rejected", "reopened", STAFF_OR_REPORTER),
    Transition("duplicate", "reopened", STAFF),
    *(
        Transition(src, "duplicate", STAFF)
        for src in ("routed", "acknowledged", "in_progress", "reopened")
    ),
)
_BY_PAIR = {(t.source, t.target): t for t in TRANSITIONS}


def find(source: str, target: str) -> Transition | None:
    """The transition from `source` to `target`, or None when the lifecycle forbids it."""
    return _BY_PAIR.get((source, target))


def status_of(state: str) -> str:
    """Open311's two-valued status."""
    return "closed" if state in CLOSED else "open"
