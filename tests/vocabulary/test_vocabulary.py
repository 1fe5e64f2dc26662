"""The vocabulary: the table equals the Python definitions, the endpoint serves them,
and the public contributions view labels answers from the table."""

from __future__ import annotations

from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from carto.concertations.status import ANSWER_LABELS, STATUS_LABELS
from carto.signalements.states import LABELS, OPEN, REQUESTABLE, STATES
from carto.vocabulary.terms import rows


async def test_table_equals_the_python_definitions(session: AsyncSession) -> None:
    stored = await session.execute(
        text("SELECT domain, code, label, position FROM vocabulary ORDER BY domain, position")
    )
    assert [tuple(r) for r in stored] == sorted(rows(), key=lambda r: (r[0], r[3]))


async def test_the_contributions_view_reads_its_answer_labels_from_the_table(
    session: AsyncSession,
) -> None:
    definition = await session.scalar(
        text("SELECT pg_get_viewdef('public_layers.contributions'::regclass)")
    )
    assert "vocabulary" in definition and "CASE" not in definition.upper()
    # A label changed in the table shows in the view (rolled back after the test).
    await session.execute(
        text("UPDATE vocabulary SET label = 'Adoptée' WHERE domain = 'answer_status'")
    )
    answered = await session.scalar(
        text("SELECT count(*) FROM public_layers.contributions WHERE answer_status IS NOT NULL")
    )
    labels = await session.scalars(
        text("SELECT DISTINCT answer FROM public_layers.contributions WHERE answer IS NOT NULL")
    )
    assert answered == 0 or set(labels) == {"Adoptée"}


async def test_the_endpoint_serves_every_code_with_its_label(
    client: AsyncClient, session: AsyncSession
) -> None:
    resp = await client.get("/api/v1/vocabulary")
    assert resp.status_code == 200, resp.text
    assert resp.headers["cache-control"] == "public, max-age=300"
    body = resp.json()
    domains = {d: {t["code"]: t["label"] for t in terms} for d, terms in body["domains"].items()}
    assert list(domains["signalement_state"]) == list(STATES)
    assert domains["signalement_state"] == LABELS
    assert list(domains["signalement_action"]) == list(REQUESTABLE)
    assert domains["answer_status"] == ANSWER_LABELS
    assert domains["concertation_status"] == STATUS_LABELS
    assert set(body["open"]["signalement_state"]) == OPEN
    assert body["open"]["concertation_status"] == ["ouverte"]
    categories = await session.execute(text("SELECT code, label FROM category"))
    assert domains["category"] == dict(categories.all()) and domains["category"]
