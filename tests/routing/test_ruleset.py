"""The cached rule set follows every change of the routing data, rolled-back ones included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from carto.routing import resolution, ruleset
from carto.routing.decision import NoCompetence, UnknownCategory
from carto.routing.resolution import resolve, resolve_sync

ROUBAIX = (3.1779, 50.6916)


def stamp(conn: psycopg.Connection) -> str:
    return str(conn.execute("SELECT version FROM routing_version").fetchone()[0])


def route(conn: psycopg.Connection, category: str = "voirie") -> str:
    lon, lat = ROUBAIX
    return resolve_sync(conn=conn, lon=lon, lat=lat, category_code=category).service_name


def commune_rule(conn: psycopg.Connection) -> None:
    """Roubaix takes the roads over from the MEL, with its own service."""
    conn.execute(
        """INSERT INTO competence_rule (category_code, level, scope_kind, scope_code, source,
                                        service_slug)
           VALUES ('voirie', 'commune', 'commune', '59512', 'admin', 'voirie-roubaix')"""
    )
    conn.execute(
        """INSERT INTO service (authority_id, slug, name)
           SELECT authority_id, 'voirie-roubaix', 'Voirie de Roubaix' FROM commune
           WHERE insee = '59512'"""
    )


def test_a_change_is_seen_at_once_and_its_rollback_too(sync_conn):
    before = route(sync_conn)
    assert before != "Voirie de Roubaix"
    stamp_before = stamp(sync_conn)
    with pytest.raises(RuntimeError), sync_conn.transaction():
        commune_rule(sync_conn)
        assert stamp(sync_conn) != stamp_before
        assert route(sync_conn) == "Voirie de Roubaix"
        rolled_back = stamp(sync_conn)
        raise RuntimeError("roll back")
    assert stamp(sync_conn) == stamp_before
    assert route(sync_conn) == before
    # Another change never reuses the rolled-back stamp (the cache would be stale).
    sync_conn.execute("UPDATE service SET name = name || ' (nouveau)' WHERE slug = 'voirie'")
    assert stamp(sync_conn) not in (stamp_before, rolled_back)
    assert route(sync_conn) == before + " (nouveau)"


def test_disabling_a_category_or_renaming_a_service_reroutes(sync_conn):
    sync_conn.execute("UPDATE category SET active = false WHERE code = 'mobilier'")
    with pytest.raises(UnknownCategory):
        route(sync_conn, "mobilier")
    sync_conn.execute(
        """UPDATE service SET slug = 'proprete-ancien' WHERE slug = 'proprete'
           AND authority_id = (SELECT authority_id FROM commune WHERE insee = '59512')"""
    )
    with pytest.raises(NoCompetence):
        route(sync_conn, "proprete")


def test_the_rule_set_is_loaded_once_per_version(sync_conn, monkeypatch):
    loads: list[str] = []
    real = ruleset.ruleset_from_row

    def counting(row):
        loads.append(row["version"])
        return real(row)

    monkeypatch.setattr(resolution, "ruleset_from_row", counting)
    route(sync_conn)
    route(sync_conn, "proprete")
    assert len(loads) <= 1
    commune_rule(sync_conn)
    route(sync_conn)
    route(sync_conn, "eclairage")
    assert loads[-1] == stamp(sync_conn) and len(loads) <= 2


async def test_the_app_path_sees_a_change_in_its_transaction(session):
    from sqlalchemy import text

    first = await resolve(session=session, lon=ROUBAIX[0], lat=ROUBAIX[1], category_code="voirie")
    await session.execute(
        text("UPDATE service SET name = 'Voirie renommée' WHERE id = :id"),
        {"id": first.service_id},
    )
    again = await resolve(session=session, lon=ROUBAIX[0], lat=ROUBAIX[1], category_code="voirie")
    assert (again.service_id, again.service_name) == (first.service_id, "Voirie renommée")
    assert "Voirie renommée" in again.explanation


def test_kept_candidates_follow_a_rule_period_to_the_microsecond(sync_conn):
    """Candidates are kept per period between the rules' dates: right before, at, and
    right after a rule's start and end, they equal a fresh computation."""
    start = datetime(2031, 3, 1, tzinfo=UTC)
    end = datetime(2032, 3, 1, tzinfo=UTC)
    sync_conn.execute(
        """INSERT INTO competence_rule (category_code, level, scope_kind, scope_code, source,
                                        service_slug, valid_from, valid_to)
           VALUES ('voirie', 'commune', 'commune', '59512', 'admin', 'mobilier', %s, %s)""",
        (start, end),
    )
    rs = resolution.ruleset_sync(sync_conn)
    commune = dict(
        zip(("insee", "departement", "authority_id"),
            sync_conn.execute("SELECT insee, departement, authority_id FROM commune "
                              "WHERE insee = '59512'").fetchone(), strict=True)
    )  # fmt: skip
    tick = timedelta(microseconds=1)
    moments = [start - tick, start, start + tick, end - tick, end, end + tick, start - tick]
    seen = []
    for at in moments:
        kept = ruleset.candidates_cached(rs, commune, "voirie", at)
        assert kept == ruleset.candidates_for(rs, commune, "voirie", at)
        # the rule a street without a road class gets (the État's road-class rules rank first)
        seen.append(next(c for c in kept if c.road_class is None).rule_id)
    assert seen[0] == seen[4] == seen[6] != seen[1]  # the rule holds from its start, not at its end
    assert seen[1] == seen[2] == seen[3]
    # one period, one list (not recomputed)
    assert ruleset.candidates_cached(rs, commune, "voirie", start) is ruleset.candidates_cached(
        rs, commune, "voirie", start + tick
    )


def test_kept_candidates_are_bounded(sync_conn, monkeypatch):
    """A full memo is emptied, never grown past its size, and answers stay right."""
    monkeypatch.setattr(ruleset, "MEMO_SIZE", 2)
    rs = resolution.ruleset_sync(sync_conn)
    rs.memo.clear()
    rows = sync_conn.execute(
        "SELECT insee, departement, authority_id FROM commune ORDER BY insee LIMIT 5"
    ).fetchall()
    at = datetime.now(UTC)
    for insee, departement, authority_id in rows:
        commune = {"insee": insee, "departement": departement, "authority_id": authority_id}
        kept = ruleset.candidates_cached(rs, commune, "voirie", at)
        assert kept == ruleset.candidates_for(rs, commune, "voirie", at)
        assert 1 <= len(rs.memo) <= 2
