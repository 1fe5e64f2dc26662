"""Every coded vocabulary, gathered from the modules that define it (no I/O).

Each domain is an ordered mapping code -> French label; the order is the display
order. Nothing is typed here: the labels live next to the logic that uses them
(`signalements.states`, `concertations.status`), this module only names the domains.
"""

from __future__ import annotations

from collections.abc import Mapping

from carto.concertations import status
from carto.routing.models import LEVEL_LABELS, SCOPE_LABELS
from carto.signalements import states

# domain name (the vocabulary table's `domain`, the endpoint's keys) -> code -> label
DOMAINS: Mapping[str, Mapping[str, str]] = {
    "signalement_state": {code: states.LABELS[code] for code in states.STATES},
    "signalement_action": states.ACTION_LABELS,
    "signalement_event": states.EVENT_LABELS,
    "address_source": states.ADDRESS_SOURCE_LABELS,
    "concertation_status": status.STATUS_LABELS,
    "concertation_kind": status.KIND_LABELS,
    "concertation_phase": status.PHASE_LABELS,
    "contribution_kind": status.CONTRIBUTION_KIND_LABELS,
    "contribution_channel": status.CHANNEL_LABELS,
    "answer_status": status.ANSWER_LABELS,
    "competence_level": LEVEL_LABELS,
    "competence_scope": SCOPE_LABELS,
}
# Codes of each domain that count as "open" (still moving; accepting contributions).
OPEN_CODES: Mapping[str, frozenset[str]] = {
    "signalement_state": states.OPEN,
    "concertation_status": frozenset({"ouverte"}),
}


def rows() -> list[tuple[str, str, str, int]]:
    """(domain, code, label, position) for every term, in display order."""
    return [
        (domain, code, label, position)
        for domain, terms in DOMAINS.items()
        for position, (code, label) in enumerate(terms.items())
    ]
