"""Spotting personal data in texts that are about to be published (no I/O).

Participants sometimes write their e-mail address or phone number in a
contribution; the reports ask that such texts wait for a moderator rather than
go public. This is a hold, not a verdict: false positives only delay a text.
"""

from __future__ import annotations

import re

EMAIL = re.compile(
    r"[A-Za-z0-9._%+-]+\s*(?:@|\(at\)|\[at\]|\sat\s|\barobase\b)\s*"
    r"[A-Za-z0-9-]+(?:\s*(?:\.|\(dot\)|\[dot\]|\bpoint\b)\s*[A-Za-z0-9-]+)*"
    r"\s*(?:\.|\(dot\)|\[dot\]|\bpoint\b)\s*[A-Za-z]{2,}",
    re.IGNORECASE,
)
# French numbers: 0X XX XX XX XX with spaces, dots, dashes or nothing between pairs;
# +33 / 0033, optionally "(0)", then nine digits; also "06 12 345 678"-like groupings.
PHONE = re.compile(r"(?<![\d+])(?:(?:\+|00)\s?33\s?(?:\(0\)\s?)?|0)[1-9](?:[\s.\-/]?\d){8}(?!\d)")


def personal_data_reasons(*texts: str | None) -> list[str]:
    """What kinds of personal data the texts seem to contain (empty when none)."""
    joined = "\n".join(t for t in texts if t)
    reasons = []
    if EMAIL.search(joined):
        reasons.append("adresse e-mail")
    if PHONE.search(joined):
        reasons.append("numéro de téléphone")
    return reasons


def hold_reason(*texts: str | None) -> str | None:
    """The moderator-facing reason to hold these texts back, or None to publish them."""
    reasons = personal_data_reasons(*texts)
    if not reasons:
        return None
    return "Données personnelles possibles : " + " et ".join(reasons)
