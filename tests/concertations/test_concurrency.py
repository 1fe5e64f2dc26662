"""Counters stay exact when participants vote at the same moment (separate transactions).

Works on committed data (each vote is its own transaction), in a concertation of its own
that is deleted afterwards."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from carto.concertations.reactions import cast_vote, set_support
from carto.concertations.schemas import VoteInput
from tests.concertations.conftest import principal

SLUG = "t-concurrence"


@pytest.fixture
def contribution_id(demo_db: str):
    with psycopg.connect(demo_db) as conn:
        k = conn.execute(
            """INSERT INTO concertation (slug, title, description, kind, perimeter, opens_at,
                   closes_at, allowed_geometry_types, allowed_kinds, is_demo)
               SELECT %s, 'Concurrence', '', 'autre', geom, now() - interval '1 day',
                      now() + interval '1 day', '{Point}', '{proposition}', false
               FROM commune WHERE insee = '59350' RETURNING id""",
            (SLUG,),
        ).fetchone()[0]
        theme = conn.execute(
            "INSERT INTO concertation_theme (concertation_id, slug, label, color, icon, "
            "description, sort_order) VALUES (%s, 'velo', 'Vélo', '#123456', '', '', 0) "
            "RETURNING id",
            (k,),
        ).fetchone()[0]
        cid = conn.execute(
            """INSERT INTO contribution (concertation_id, theme_id, kind, title, body, geom,
                   channel, visibility, flags, constraint_notes, votes_for, votes_against,
                   supports, comments, is_demo)
               VALUES (%s, %s, 'proposition', 'Objet des votes', '',
                       ST_SetSRID(ST_MakePoint(3.0632, 50.6369), 4326), 'online', 'published',
                       '{}', '{}', 0, 0, 0, 0, false) RETURNING id""",
            (k, theme),
        ).fetchone()[0]
    try:
        yield cid
    finally:
        with psycopg.connect(demo_db) as conn:
            conn.execute("DELETE FROM concertation WHERE slug = %s", (SLUG,))


async def test_simultaneous_votes_and_supports_keep_exact_counters(async_engine, contribution_id):
    async def vote(n: int, value: int) -> None:
        async with AsyncSession(async_engine, expire_on_commit=False) as session:
            who = await principal(session, f"participant.{n:02d}@demo.local")
            await cast_vote(
                session=session,
                contribution_id=contribution_id,
                data=VoteInput(value=value),
                principal=who,
            )
            await set_support(
                session=session,
                contribution_id=contribution_id,
                principal=who,
                supported=n % 3 == 0,
            )

    # Twenty participants vote at once; then half of them change their mind, at once.
    await asyncio.gather(*(vote(n, 1) for n in range(1, 21)))
    await asyncio.gather(*(vote(n, -1) for n in range(1, 21) if n % 2))
    async with AsyncSession(async_engine) as session:
        row = (
            await session.execute(
                text(
                    "SELECT votes_for, votes_against, supports, "
                    "(SELECT count(*) FROM contribution_vote WHERE contribution_id = c.id "
                    " AND value = 1) AS real_for, "
                    "(SELECT count(*) FROM contribution_support WHERE contribution_id = c.id) "
                    " AS real_supports FROM contribution c WHERE id = :i"
                ),
                {"i": contribution_id},
            )
        ).one()
    assert (row.votes_for, row.votes_against) == (10, 10)
    assert row.votes_for == row.real_for and row.supports == row.real_supports == 6
