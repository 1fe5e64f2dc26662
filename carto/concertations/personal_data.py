"""Holding contributions that carry personal data until a moderator looks (no I/O).

The detector is shared with the reports (carto.personal_data); here is only the
moderation wording. This is a hold, not a verdict: false positives only delay a text.
"""

from __future__ import annotations

from carto.personal_data import EMAIL, PHONE, personal_data_reasons

__all__ = ["EMAIL", "PHONE", "hold_reason", "personal_data_reasons"]


def hold_reason(*texts: str | None) -> str | None:
    """The moderator-facing reason to hold these texts back, or None to publish them."""
    reasons = personal_data_reasons(*texts)
    if not reasons:
        return None
    return "Données personnelles possibles : " + " et ".join(reasons)
