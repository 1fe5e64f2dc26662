"""The public concertations view and `concertation_status()` give the same status,
boundaries included: both come from `STATUS_RULES` (the view through migration vw01)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from carto.concertations.status import STATUS_LABELS, concertation_status
from tests.concertations.conftest import MakeConcertation

DAY = timedelta(days=1)


async def test_the_view_status_follows_the_python_rule(
    session: AsyncSession, make_concertation: MakeConcertation
) -> None:
    cases = {
        "k-archivee": {"opens": -2 * DAY, "closes": DAY, "archived": True},
        "k-a-venir": {"opens": DAY, "closes": 2 * DAY},
        "k-close": {"opens": -2 * DAY, "closes": -DAY},
        "k-ouverte": {"opens": -DAY, "closes": DAY},
        "k-opens-now": {"opens": -DAY, "closes": DAY},
        "k-closes-now": {"opens": -DAY, "closes": DAY},
    }
    for slug, dates in cases.items():
        await make_concertation(slug=slug, **dates)
    # The boundaries at the transaction's now(), the instant the view compares with.
    for column, slug in (("opens_at", "k-opens-now"), ("closes_at", "k-closes-now")):
        await session.execute(
            text(f"UPDATE concertation SET {column} = now() WHERE slug = :slug"), {"slug": slug}
        )
    rows = (
        await session.execute(
            text(
                "SELECT v.slug, v.status, k.opens_at, k.closes_at, k.archived_at, now() AS at"
                " FROM public_layers.concertations v JOIN concertation k ON k.id = v.id"
                " WHERE v.slug LIKE 'k-%'"
            )
        )
    ).all()
    seen = {r.slug: r.status for r in rows}
    assert seen == {
        "k-archivee": "archivee",
        "k-a-venir": "a_venir",
        "k-close": "close",
        "k-ouverte": "ouverte",
        "k-opens-now": "ouverte",
        "k-closes-now": "close",
    }
    for r in rows:
        assert r.status == concertation_status(r.opens_at, r.closes_at, r.archived_at, r.at)
    assert set(seen.values()) == set(STATUS_LABELS)
