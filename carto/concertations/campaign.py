"""Campaign detection: bursts from one account or one network address, and participants
who declare living outside the perimeter.

Flagged items stay visible; moderators see why in their queue and the synthesis counts
them apart. Addresses are never stored: `network_hash` is a keyed hash whose salt
changes every day, enough to see a burst within minutes, useless to follow anyone.
Input entered by staff (workshop, paper, kiosk, assisted) is not burst-checked: an
agent typing a pile of paper forms is not a campaign.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from carto.accounts.deps import Principal
from carto.concertations.models import Concertation
from carto.concertations.participation_models import Residence
from carto.concertations.schemas import ResidenceInput, ResidenceResult
from carto.errors import InvalidInput


@dataclass(frozen=True)
class BurstRule:
    """`count` items or more within `window` from one source make a burst."""

    count: int
    window: timedelta


CONTRIBUTION_BURSTS = {
    "burst_account": BurstRule(6, timedelta(minutes=10)),
    "burst_network": BurstRule(12, timedelta(minutes=10)),
}
VOTE_BURSTS = {
    "burst_account": BurstRule(40, timedelta(minutes=5)),
    "burst_network": BurstRule(80, timedelta(minutes=10)),
}


def network_hash(address: str | None, key: str, day: date) -> str | None:
    """A daily-salted keyed hash of a client address (None when unknown)."""
    if not address:
        return None
    message = f"{day.isoformat()}|{address}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()[:32]


_CONTRIBUTION_SOURCES = {"burst_account": "author_id", "burst_network": "ip_hash"}
_VOTE_SOURCES = {"burst_account": "user_id", "burst_network": "ip_hash"}


async def flag_contribution_bursts(
    *, session: AsyncSession, concertation_id: int, author_id: int | None, ip_hash: str | None
) -> list[str]:
    """Flag every online contribution of a burst this source is in; the flags raised."""
    raised = []
    for flag, column in _CONTRIBUTION_SOURCES.items():
        value = author_id if column == "author_id" else ip_hash
        if value is None:
            continue
        rule = CONTRIBUTION_BURSTS[flag]
        result = await session.execute(
            text(
                f"""WITH burst AS (
                      SELECT id FROM contribution
                       WHERE concertation_id = :k AND {column} = :v AND channel = 'online'
                         AND created_at > now() - make_interval(secs => :w))
                    UPDATE contribution SET flags = array_append(flags, :f)
                     WHERE id IN (SELECT id FROM burst)
                       AND (SELECT count(*) FROM burst) >= :n AND NOT (:f = ANY(flags))"""
            ),
            {
                "k": concertation_id,
                "v": value,
                "w": rule.window.total_seconds(),
                "f": flag,
                "n": rule.count,
            },  # fmt: skip
        )
        if getattr(result, "rowcount", 0):
            raised.append(flag)
    return raised


async def flag_vote_bursts(
    *, session: AsyncSession, concertation_id: int, user_id: int, ip_hash: str | None
) -> list[str]:
    """Same as for contributions, over the votes cast in one concertation."""
    raised = []
    for flag, column in _VOTE_SOURCES.items():
        value = user_id if column == "user_id" else ip_hash
        if value is None:
            continue
        rule = VOTE_BURSTS[flag]
        result = await session.execute(
            text(
                f"""WITH burst AS (
                      SELECT v.id FROM contribution_vote v
                        JOIN contribution c
                          ON c.id = v.contribution_id AND c.concertation_id = v.concertation_id
                       WHERE c.concertation_id = :k AND v.{column} = :v
                         AND v.updated_at > now() - make_interval(secs => :w))
                    UPDATE contribution_vote SET flags = array_append(flags, :f)
                     WHERE id IN (SELECT id FROM burst)
                       AND (SELECT count(*) FROM burst) >= :n AND NOT (:f = ANY(flags))"""
            ),
            {
                "k": concertation_id,
                "v": value,
                "w": rule.window.total_seconds(),
                "f": flag,
                "n": rule.count,
            },  # fmt: skip
        )
        if getattr(result, "rowcount", 0):
            raised.append(flag)
    return raised


async def declared_outside(*, session: AsyncSession, concertation_id: int, user_id: int) -> bool:
    """Has this participant declared living outside the perimeter?"""
    row = await session.get(Residence, (concertation_id, user_id))
    return row is not None and not row.resident


async def _resident_of(session: AsyncSession, c: Concertation, commune: str) -> bool:
    inside = await session.scalar(
        text(
            "SELECT ST_Intersects(ST_PointOnSurface(m.geom), k.perimeter) "
            "FROM commune m, concertation k WHERE m.insee = :insee AND k.id = :k"
        ),
        {"insee": commune, "k": c.id},
    )
    if inside is None:
        raise InvalidInput(f"Commune inconnue : {commune}.")
    return bool(inside)


async def _apply_outside_flag(
    session: AsyncSession, concertation_id: int, user_id: int, outside: bool
) -> int:
    """Add or remove the flag on the participant's contributions and votes; rows changed."""
    if outside:
        update, condition = "array_append(flags, :f)", "NOT (:f = ANY(flags))"
    else:
        update, condition = "array_remove(flags, :f)", ":f = ANY(flags)"
    changed = 0
    for table, owner, scope in (
        ("contribution", "author_id", "concertation_id = :k"),
        (
            "contribution_vote",
            "user_id",
            "contribution_id IN (SELECT id FROM contribution WHERE concertation_id = :k)",
        ),
    ):
        result = await session.execute(
            text(
                f"UPDATE {table} SET flags = {update} "
                f"WHERE {condition} AND {owner} = :u AND {scope}"
            ),
            {"k": concertation_id, "u": user_id, "f": "outside_perimeter"},
        )
        changed += int(getattr(result, "rowcount", 0) or 0)
    return changed


async def declare_residence(
    *, session: AsyncSession, c: Concertation, principal: Principal, data: ResidenceInput,
    commit: bool = True,
) -> ResidenceResult:  # fmt: skip
    """Record where the participant says they live; (un)flag what they did accordingly."""
    if data.commune is not None:
        resident = await _resident_of(session, c, data.commune)
    elif data.resident is not None:
        resident = data.resident
    else:
        raise InvalidInput(
            "Indiquez « resident » (vrai ou faux) ou le code INSEE de votre commune."
        )
    row = await session.get(Residence, (c.id, principal.user_id))
    if row is None:
        row = Residence(concertation_id=c.id, user_id=principal.user_id, resident=resident)
        session.add(row)
    row.resident, row.commune_insee = resident, data.commune
    await session.flush()
    changed = await _apply_outside_flag(session, c.id, principal.user_id, not resident)
    if commit:
        await session.commit()
    return ResidenceResult(
        concertation_id=c.id, resident=resident, commune=data.commune, flagged_items=changed
    )
