"""Finding 3 over HTTP: an agent merged their own ticket *into* another authority's."""

from __future__ import annotations

import httpx
import psycopg

from tests.security.conftest import bearer

AGENT = "agent.voirie.mel@demo.local"
OPEN = "state NOT IN ('resolved', 'rejected', 'duplicate')"


def _snapshot(conn: psycopg.Connection, ticket: int) -> tuple[object, ...]:
    row = conn.execute(
        "SELECT s.state, s.supports, s.duplicate_of_id,"
        " (SELECT count(*) FROM signalement_event e WHERE e.signalement_id = s.id),"
        " (SELECT count(*) FROM signalement_support p WHERE p.signalement_id = s.id)"
        " FROM signalement s WHERE s.id = %s",
        (ticket,),
    ).fetchone()
    assert row is not None
    return tuple(row)


def test_merge_into_another_authoritys_ticket_is_refused(http: httpx.Client, demo_db: str) -> None:
    with psycopg.connect(demo_db) as conn:
        mine = conn.execute(
            f"SELECT s.id FROM signalement s JOIN role_grant g ON g.service_id = s.service_id"
            f" JOIN app_user u ON u.id = g.user_id WHERE u.email = %s AND s.{OPEN}"
            " ORDER BY s.id LIMIT 1",
            (AGENT,),
        ).fetchone()
        foreign = conn.execute(
            f"SELECT s.id FROM signalement s WHERE s.{OPEN} AND s.authority_id NOT IN"
            " (SELECT v.authority_id FROM service v JOIN role_grant g ON g.service_id = v.id"
            "  JOIN app_user u ON u.id = g.user_id WHERE u.email = %s)"
            " ORDER BY s.supports DESC, s.id LIMIT 1",
            (AGENT,),
        ).fetchone()
        assert mine and foreign, "demo data lacks an open ticket on each side"
        before = {t: _snapshot(conn, t) for t in (mine[0], foreign[0])}
    resp = http.post(
        f"/api/v1/signalements/{mine[0]}/merge",
        json={"into": foreign[0]},
        headers=bearer(http, AGENT),
    )
    assert resp.status_code == 403, resp.text
    assert "fusionner" in resp.json()["message"]
    with psycopg.connect(demo_db) as conn:  # neither ticket moved: no support, no history
        assert {t: _snapshot(conn, t) for t in before} == before
