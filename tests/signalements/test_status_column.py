"""`signalement.status` (Open311's open/closed) is a column generated from the state by
s001's typed list of closed states: it must close exactly `states.CLOSED`. A generated
column cannot join the vocabulary table, so this test is what keeps the two in line."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from carto.signalements.states import STATES, status_of


async def test_the_generated_status_follows_the_python_states(session: AsyncSession) -> None:
    expression = await session.scalar(
        text(
            "SELECT generation_expression FROM information_schema.columns"
            " WHERE table_schema = 'public' AND table_name = 'signalement'"
            " AND column_name = 'status'"
        )
    )
    assert expression
    for state in STATES:
        got = await session.scalar(
            text(f"SELECT {expression} FROM (SELECT CAST(:state AS varchar) AS state) s"),
            {"state": state},
        )
        assert got == status_of(state), state
