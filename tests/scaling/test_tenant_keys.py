"""Citus-ready schema: every large table carries its tenant key, and joins use it.

A distributed deployment (docs/scaling.md) shards the signalement side by
`authority_id` and the concertation side by `concertation_id`; co-located joins
need the key on both sides, so the catalog and the code are checked here.
"""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest
from httpx import AsyncClient

from tests.conftest import login

CARTO = Path(__file__).resolve().parents[2] / "carto"

TENANT_KEYS = {
    "signalement": "authority_id",
    "signalement_event": "authority_id",
    "signalement_support": "authority_id",
    "signalement_photo": "authority_id",
    "signalement_reporter": "authority_id",
    "contribution": "concertation_id",
    "contribution_vote": "concertation_id",
    "contribution_support": "concertation_id",
    "contribution_comment": "concertation_id",
}
# The outbox carries authority_id where a message has one (account e-mails have none);
# it stays a local table of the coordinator, claimed with FOR UPDATE SKIP LOCKED.
NULLABLE_KEYS = {"notification_outbox": "authority_id"}
LINKS = ("signalement_id", "contribution_id")  # columns that join two large tables


@pytest.mark.parametrize("table", sorted(TENANT_KEYS | NULLABLE_KEYS))
def test_every_large_table_carries_its_tenant_key(
    sync_conn: psycopg.Connection, table: str
) -> None:
    key = (TENANT_KEYS | NULLABLE_KEYS)[table]
    row = sync_conn.execute(
        "SELECT is_nullable FROM information_schema.columns "
        "WHERE table_schema = 'public' AND table_name = %s AND column_name = %s",
        (table, key),
    ).fetchone()
    assert row is not None, f"{table}.{key} is missing"
    assert (row[0] == "NO") is (table in TENANT_KEYS)
    leading = sync_conn.execute(
        """SELECT count(*) FROM pg_index i
           JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
           WHERE i.indrelid = %s::regclass AND a.attname = %s""",
        (table, key),
    ).fetchone()
    assert leading is not None and leading[0] >= 1, f"no index of {table} leads with {key}"


def test_reactions_are_tied_to_their_contributions_tenant(sync_conn: psycopg.Connection) -> None:
    """The composite foreign key refuses a vote filed under another concertation."""
    two = sync_conn.execute(
        "SELECT id, concertation_id FROM contribution ORDER BY concertation_id, id"
    ).fetchall()
    first, other = two[0], next(c for c in two if c[1] != two[0][1])
    voter, other_voter = sync_conn.execute("SELECT min(id), max(id) FROM app_user").fetchone()  # type: ignore[misc]
    sync_conn.execute("DELETE FROM contribution_vote WHERE contribution_id = %s", (first[0],))
    sync_conn.execute(  # no key given: the trigger fills it from the contribution
        "INSERT INTO contribution_vote (contribution_id, user_id, value, flags) "
        "VALUES (%s, %s, 1, '{}')",
        (first[0], voter),
    )
    filled = sync_conn.execute(
        "SELECT concertation_id FROM contribution_vote WHERE contribution_id = %s", (first[0],)
    ).fetchone()
    assert filled == (first[1],)
    with pytest.raises(psycopg.errors.ForeignKeyViolation), sync_conn.transaction():
        sync_conn.execute(
            "INSERT INTO contribution_vote "
            "(contribution_id, concertation_id, user_id, value, flags) "
            "VALUES (%s, %s, %s, 1, '{}')",
            (first[0], other[1], other_voter),
        )


async def test_the_api_sets_the_tenant_key_itself(client: AsyncClient, session) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    headers = await login(client, "citoyen@demo.local")
    row = (
        await session.execute(
            text(
                "SELECT c.id, c.concertation_id FROM contribution c JOIN concertation k "
                "ON k.id = c.concertation_id WHERE k.closes_at > now() AND k.opens_at < now() "
                "AND c.visibility = 'published' AND c.author_id IS DISTINCT FROM "
                "(SELECT id FROM app_user WHERE email = 'citoyen@demo.local') "  # not one's own
                "ORDER BY c.id LIMIT 1"
            )
        )
    ).one()
    citizen = "(SELECT id FROM app_user WHERE email = 'citoyen@demo.local')"
    await session.execute(
        text(f"DELETE FROM contribution_vote WHERE contribution_id = :c AND user_id = {citizen}"),
        {"c": row.id},
    )
    await session.execute(  # only the code may fill it now
        text("ALTER TABLE contribution_vote DISABLE TRIGGER contribution_vote_tenant")
    )
    vote = await client.post(
        f"/api/v1/contributions/{row.id}/votes", json={"value": 1}, headers=headers
    )
    assert vote.status_code in (200, 201), vote.text
    stored = await session.scalar(
        text("SELECT concertation_id FROM contribution_vote WHERE contribution_id = :c "
             "AND user_id = (SELECT id FROM app_user WHERE email = 'citoyen@demo.local')"),
        {"c": row.id},
    )  # fmt: skip
    assert stored == row.concertation_id


def _sql_joins(source: str) -> list[tuple[str, str]]:
    """(joined table, ON condition) of every SQL join in `source`."""
    pattern = re.compile(
        r"JOIN\s+(?:public\.)?(\w+)(?:\s+(?:AS\s+)?\w+)?\s+ON\s+(.*?)"
        r"(?=\s+(?:LEFT|RIGHT|INNER|FULL|CROSS|JOIN|WHERE|GROUP|ORDER|UNION|LIMIT)\b|\)|\"\"\"|$)",
        re.IGNORECASE | re.DOTALL,
    )
    return [(m.group(1).lower(), m.group(2)) for m in pattern.finditer(source)]


def test_joins_between_large_tables_carry_the_tenant_key() -> None:
    offenders: list[str] = []
    checked = 0
    for path in sorted([*CARTO.rglob("*.py"), *CARTO.rglob("*.sql")]):
        for table, condition in _sql_joins(path.read_text(encoding="utf-8")):
            if table not in TENANT_KEYS or not any(link in condition for link in LINKS):
                continue
            checked += 1
            if TENANT_KEYS[table] not in condition:
                offenders.append(f"{path.relative_to(CARTO)}: JOIN {table} ON {condition.strip()}")
    assert checked >= 8  # the synthesis, moderation, campaign and transfer queries
    assert offenders == []


def test_the_join_check_catches_a_join_without_the_key() -> None:
    bad = "FROM contribution_vote v JOIN contribution c ON c.id = v.contribution_id WHERE x"
    good = (
        "FROM signalement_event e JOIN signalement s\n"
        "  ON s.id = e.signalement_id AND s.authority_id = e.authority_id\nJOIN service f"
    )
    assert _sql_joins(bad) == [("contribution", "c.id = v.contribution_id")]
    [(table, condition)] = _sql_joins(good)
    assert table == "signalement" and TENANT_KEYS[table] in condition
