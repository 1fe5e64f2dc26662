"""Spotting and masking contact details in free texts about to be published (no I/O).

People write their e-mail address or phone number in a contribution or in a
report's description. Contributions that do are held for a moderator
(carto.concertations.personal_data); a report is public at once, so its public
text has them masked and the original goes to the competent staff only. The
patterns live here, below both feature packages, so that one detector serves both.
"""

from __future__ import annotations

import re

# The local part starts where a run of its characters starts (the look-behind): tried
# from every position inside a long run, the pattern took 0.4 s on 5,000 characters.
EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+\s*(?:@|\(at\)|\[at\]|\sat\s|\barobase\b)\s*"
    r"[A-Za-z0-9-]+(?:\s*(?:\.|\(dot\)|\[dot\]|\bpoint\b)\s*[A-Za-z0-9-]+)*"
    r"\s*(?:\.|\(dot\)|\[dot\]|\bpoint\b)\s*[A-Za-z]{2,}",
    re.IGNORECASE,
)
# French numbers: 0X XX XX XX XX with spaces, dots, dashes or nothing between pairs;
# +33 / 0033, optionally "(0)", then nine digits; also "06 12 345 678"-like groupings.
PHONE = re.compile(r"(?<![\d+])(?:(?:\+|00)\s?33\s?(?:\(0\)\s?)?|0)[1-9](?:[\s.\-/]?\d){8}(?!\d)")

EMAIL_MASK = "[adresse e-mail masquée]"
PHONE_MASK = "[numéro masqué]"


def personal_data_reasons(*texts: str | None) -> list[str]:
    """What kinds of personal data the texts seem to contain (empty when none)."""
    joined = "\n".join(t for t in texts if t)
    reasons = []
    if EMAIL.search(joined):
        reasons.append("adresse e-mail")
    if PHONE.search(joined):
        reasons.append("numéro de téléphone")
    return reasons


def mask_contact_details(text: str) -> str:
    """The text with e-mail addresses and phone numbers replaced by a French mark.

    E-mails first: an address may hold digits that look like a number."""
    masked = EMAIL.sub(EMAIL_MASK, text)
    return PHONE.sub(PHONE_MASK, masked)
