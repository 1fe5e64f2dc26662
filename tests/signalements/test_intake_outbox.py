"""The intake writes its notifications in its own statement: the very rows `announce`
writes for the same event, with the real ids in place of the stand-ins; and a statement
that fails stores nothing at all."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from carto.notifications.service import OutboxBatch
from carto.routing.resolution import resolve
from carto.signalements import notify
from carto.signalements.intake import insert_report
from carto.signalements.models import Signalement, SignalementEvent
from carto.signalements.schemas import SignalementCreate
from carto.signalements.service import ReporterInfo, _fresh, create_report
from tests.signalements.conftest import LYON_BELLECOUR, ROUBAIX, count

TABLES = ("signalement", "signalement_event", "signalement_reporter", "signalement_photo",
          "notification_outbox")  # fmt: skip

# Text that a careless substitution would garble: format() escapes, quotes, JSON, marks.
TRICKY = 'Tag "100 %" %1$s %s %% {id} \\u0000 idxxs — "id": 7, \'quote\''


async def _outbox(session, signalement_id: int) -> list[tuple]:
    rows = await session.execute(
        text("SELECT channel, recipient, payload, event_key, authority_id, status, attempts "
             "FROM notification_outbox WHERE event_key LIKE :k ORDER BY id"),
        {"k": f"signalement:{signalement_id}:%"},
    )  # fmt: skip
    return [tuple(r) for r in rows]


async def test_intake_outbox_rows_are_exactly_those_announce_writes(session):
    data = SignalementCreate(
        lon=LYON_BELLECOUR[0], lat=LYON_BELLECOUR[1], service_code="proprete",
        description=TRICKY, address=f"{TRICKY} (adresse)", email="Camille@Example.org",
    )  # fmt: skip
    decision = await resolve(session=session, lon=data.lon, lat=data.lat, category_code="proprete")
    await session.execute(
        text("UPDATE service SET webhook_url = 'https://hooks.example/in' WHERE id = :s"),
        {"s": decision.service_id},
    )
    created = await create_report(
        session=session, data=data, reporter=ReporterInfo(ip="192.0.2.7"), source="open311",
        base_url="https://carto.example/x%20y",
    )  # fmt: skip
    written = await _outbox(session, created.id)
    # citizen, service, webhook (when the service has a URL), informed services
    assert len(written) >= 3
    assert {r[1] for r in written} >= {"camille@example.org", "mobilier.lyon@services.demo.local"}
    citizen = next(r for r in written if r[1] == "camille@example.org")
    assert str(created.id) in citizen[2]["subject"] and "id" not in citizen[2]["subject"]

    sig = await session.get(Signalement, created.id)
    routed = (
        await session.execute(
            text("SELECT id FROM signalement_event WHERE signalement_id = :i AND to_state = "
                 "'routed'"), {"i": created.id},
        )
    ).scalar_one()  # fmt: skip
    event = await session.get(SignalementEvent, routed)
    await session.execute(
        text("DELETE FROM notification_outbox WHERE event_key LIKE :k"),
        {"k": f"signalement:{created.id}:%"},
    )
    await notify.announce(session=session, signalement=sig, event=event, routing=decision,
                          base_url="https://carto.example/x%20y")  # fmt: skip
    assert await _outbox(session, created.id) == written
    webhooks = [r[2] for r in written if r[0] == "webhook"]
    assert webhooks
    assert all(w["data"]["id"] == created.id for w in webhooks)
    assert all(w["data"]["url"] == f"/suivi/{created.id}" for w in webhooks)
    assert all(w["data"]["description"] == TRICKY for w in webhooks)


async def test_without_notifications_the_intake_writes_no_outbox_row(session):
    data = SignalementCreate(lon=ROUBAIX[0], lat=ROUBAIX[1], service_code="proprete",
                             description="Sans avis", email="a@example.org")  # fmt: skip
    created = await create_report(session=session, data=data, notify_people=False)
    assert await _outbox(session, created.id) == []
    assert await count(session, "signalement_reporter") >= 1


async def test_a_failing_intake_statement_stores_nothing(async_engine):
    """The photo link's foreign key fails after the ticket, events, reporter and outbox
    rows were inserted by the same statement, run in autocommit (no transaction around
    it): none of them remains."""
    data = SignalementCreate(lon=ROUBAIX[0], lat=ROUBAIX[1], service_code="proprete",
                             description="Photo fantôme", email="a@example.org",
                             photo_id="f" * 32)  # fmt: skip
    async with async_engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        session = AsyncSession(bind=conn)
        before = [await count(session, t) for t in TABLES]
        decision = await resolve(
            session=session, lon=data.lon, lat=data.lat, category_code="proprete"
        )

        known = notify.Known(
            category_label="Propreté", lon=data.lon, lat=data.lat, citizen="a@example.org",
            service_email=decision.service_email,
        )  # fmt: skip
        batches: list[OutboxBatch] = []

        def outbox(sig: Signalement, event: SignalementEvent) -> OutboxBatch:
            batches.append(notify.outbox_batch(signalement=sig, event=event, known=known))
            return batches[-1]

        with pytest.raises(DBAPIError, match="signalement_photo"):
            await insert_report(
                session=session, data=data, decision=decision, when=datetime.now(UTC),
                source="web", user_id=None, ip="192.0.2.8", outbox=outbox,
            )  # fmt: skip
        assert len(batches[0].columns()["o_channel"]) >= 2  # the rows were part of it
        assert [await count(session, t) for t in TABLES] == before
        await session.close()


async def test_a_fresh_session_stores_the_report_in_autocommit(async_engine, session):
    """On a session of its own (the app's case), the report is stored without BEGIN and
    COMMIT and is at once visible to others, outbox rows included."""
    maker = async_sessionmaker(async_engine, expire_on_commit=False)
    data = SignalementCreate(lon=ROUBAIX[0], lat=ROUBAIX[1], service_code="proprete",
                             description="Autocommit", email="auto@example.org")  # fmt: skip
    async with maker() as own:
        assert _fresh(own)
        await own.execute(text("SELECT 1"))
        assert not _fresh(own)  # something ran: keep the transaction the caller has
    assert not _fresh(session)  # bound to a connection the caller controls
    async with maker() as own:
        created = await create_report(session=own, data=data)
        assert not own.in_transaction()
        # the session is transactional again afterwards: a later write can be rolled back
        await own.execute(
            text("UPDATE signalement SET description = 'changé' WHERE id = :i"),
            {"i": created.id},
        )
        await own.rollback()
    try:
        async with maker() as other:
            rows = await _outbox(other, created.id)
            assert {r[1] for r in rows} >= {"auto@example.org"}
            assert await other.scalar(
                text("SELECT description FROM signalement WHERE id = :i"), {"i": created.id}
            ) == "Autocommit"  # fmt: skip
            assert await other.scalar(
                text("SELECT count(*) FROM signalement_event WHERE signalement_id = :i"),
                {"i": created.id},
            ) == 2  # fmt: skip
    finally:
        async with maker() as other:
            await other.execute(
                text("DELETE FROM notification_outbox WHERE event_key LIKE :k"),
                {"k": f"signalement:{created.id}:%"},
            )
            await other.execute(text("DELETE FROM signalement WHERE id = :i"), {"i": created.id})
            await other.commit()
