"""Migration v016 on a database that already has data: a vote cast by an unconfirmed
account stops counting at the upgrade, counts again once the address is confirmed,
and a downgrade leaves every counter right."""

from __future__ import annotations

import psycopg
from alembic import command

from carto.runtime import alembic_config, upgrade
from tests.scratch_db import scratch_demo_db


def _votes_for(conn: psycopg.Connection, contribution: int) -> int:
    row = conn.execute("SELECT votes_for FROM contribution WHERE id = %s", (contribution,))
    return int(row.fetchone()[0])  # type: ignore[index]


def test_upgrade_and_downgrade_keep_vote_counters_right(server_url: str) -> None:
    with scratch_demo_db(server_url, "carto_v016") as url:
        command.downgrade(alembic_config(url), "accountsecurity@-2")
        with psycopg.connect(url, autocommit=True) as conn:
            cid = conn.execute(  # one its author did not vote on (v017 leaves those out)
                "SELECT min(c.id) FROM contribution c WHERE NOT EXISTS (SELECT 1 FROM"
                " contribution_vote v WHERE v.contribution_id = c.id AND v.user_id = c.author_id)"
            ).fetchone()[0]  # type: ignore[index]
            before = _votes_for(conn, cid)
            user = conn.execute(
                "INSERT INTO app_user (email, pseudonym, password_hash, is_active,"
                " email_verified) VALUES ('jetable@example.org', 'Jetable', '!', true, false)"
                " RETURNING id"
            ).fetchone()[0]  # type: ignore[index]
            conn.execute(
                "INSERT INTO contribution_vote (contribution_id, concertation_id, user_id, value,"
                " flags) SELECT id, concertation_id, %s, 1, '{}' FROM contribution WHERE id = %s",
                (user, cid),
            )
            assert _votes_for(conn, cid) == before + 1  # counted before the migration
        upgrade(url)
        with psycopg.connect(url, autocommit=True) as conn:
            assert _votes_for(conn, cid) == before  # an unconfirmed account's vote waits
            conn.execute("UPDATE app_user SET email_verified = true WHERE id = %s", (user,))
            assert _votes_for(conn, cid) == before + 1
            flags = conn.execute(
                "SELECT flags FROM contribution_vote WHERE user_id = %s", (user,)
            ).fetchone()[0]  # type: ignore[index]
            assert flags == []
            conn.execute("UPDATE app_user SET email_verified = false WHERE id = %s", (user,))
            conn.execute(
                "UPDATE contribution_vote SET flags = '{unconfirmed}' WHERE user_id = %s", (user,)
            )
            assert _votes_for(conn, cid) == before
        command.downgrade(alembic_config(url), "accountsecurity@-2")
        with psycopg.connect(url, autocommit=True) as conn:
            assert _votes_for(conn, cid) == before + 1  # no flag any more: counted
        upgrade(url)
