"""No personal data in any public output: OGC items and every export format of every layer.

The test plants a unique person in the write side, whatever its tables are: a user
with a unique e-mail and pseudonym, made the owner of one row of every table that
references users, and unique values in one row of every personal-looking column
(e-mail, names, phone, IP) of the `public` schema. It commits them (the OGC API reads
committed rows through its own pool), scans everything public, and restores the rows.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest
from psycopg import sql

from tests.layers.conftest import public_views

PERSONAL_COLUMN = re.compile(
    r"(^|_)(e?mail|email_address|first_name|last_name|prenom|pseudonym|phone|telephone|ip|ip_hash)$"
)
FORMATS = ("geojson", "csv", "gpkg", "fgb")


def _single_pk(conn: psycopg.Connection, table: str) -> str | None:
    rows = conn.execute(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a"
        " ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)"
        " WHERE i.indrelid = %s::regclass AND i.indisprimary",
        (f"public.{table}",),
    ).fetchall()
    return rows[0][0] if len(rows) == 1 else None


def _user_references(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """(table, column) of every single-column foreign key to app_user."""
    return conn.execute(
        "SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c"
        " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
        " WHERE c.contype = 'f' AND c.confrelid = 'public.app_user'::regclass"
        " AND cardinality(c.conkey) = 1 AND c.connamespace = 'public'::regnamespace"
    ).fetchall()


def _personal_columns(conn: psycopg.Connection) -> list[tuple[str, str]]:
    rows = conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = 'public' AND data_type IN ('text', 'character varying')"
        " AND table_name IN (SELECT tablename FROM pg_tables WHERE schemaname = 'public')"
    ).fetchall()
    return [(t, c) for t, c in rows if PERSONAL_COLUMN.search(c) and t != "app_user"]


def _plant(conn: psycopg.Connection, table: str, column: str, value: Any, undo: list[Any]) -> None:
    """Set `column` of one row of `table` to `value`, remembering how to undo it."""
    pk = _single_pk(conn, table.split(".")[-1])
    if pk is None:
        return
    ident = sql.Identifier
    row = conn.execute(
        sql.SQL("SELECT {pk}, {col} FROM public.{t} ORDER BY {pk} LIMIT 1").format(
            pk=ident(pk), col=ident(column), t=ident(table.split(".")[-1])
        )
    ).fetchone()
    if row is None:
        return
    update = sql.SQL("UPDATE public.{t} SET {col} = %s WHERE {pk} = %s").format(
        t=ident(table.split(".")[-1]), col=ident(column), pk=ident(pk)
    )
    try:
        with conn.transaction():
            conn.execute(update, (value, row[0]))
    except psycopg.Error:
        return  # a constraint refuses this value: nothing planted there
    undo.append((update, (row[1], row[0])))


@pytest.fixture
def planted(demo_db: str) -> Iterator[list[str]]:
    """Unique personal values planted in the write side (committed), removed afterwards."""
    token = secrets.token_hex(5)
    email, pseudonym = f"zq.{token}@exemple.test", f"Zephyrin{token}"
    undo: list[Any] = []
    with psycopg.connect(demo_db, autocommit=True) as conn:
        user_id = conn.execute(
            "INSERT INTO app_user (email, pseudonym, password_hash, is_active, email_verified)"
            " VALUES (%s, %s, 'x', true, true) RETURNING id",
            (email, pseudonym),
        ).fetchone()[0]  # type: ignore[index]
        for table, column in _user_references(conn):
            _plant(conn, table, column, user_id, undo)
        for table, column in _personal_columns(conn):
            value = f"p.{token}@exemple.test" if "mail" in column else f"Personne{token}"
            _plant(conn, table, column, value, undo)
        try:
            yield [email, pseudonym, token]
        finally:
            for update, params in reversed(undo):
                conn.execute(update, params)
            conn.execute("DELETE FROM app_user WHERE id = %s", (user_id,))


def _ogc_items(base: str, collection: str) -> str:
    url: str | None = f"{base}/ogc/collections/{collection}/items?limit=10000"
    texts = []
    while url:
        page = httpx.get(url, timeout=120)
        assert page.status_code == 200, page.text
        texts.append(page.text)
        url = next((lk["href"] for lk in page.json()["links"] if lk["rel"] == "next"), None)
    return "\n".join(texts)


def test_no_personal_data_in_any_public_output(
    live_url: str, demo_db: str, planted: list[str]
) -> None:
    # Only planted values: free text (a contribution's body) may legitimately quote an
    # address, so demo e-mails are not a reliable signal; planted ones are unique.
    outputs: dict[str, bytes] = {}
    for view in public_views(demo_db):
        outputs[f"ogc:{view}"] = _ogc_items(live_url, view).encode()
        for fmt in FORMATS:
            resp = httpx.get(f"{live_url}/exports/{view}.{fmt}", timeout=300)
            assert resp.status_code == 200, (view, fmt, resp.text[:200])
            outputs[f"{view}.{fmt}"] = resp.content
    assert {"ogc:communes", "communes.gpkg"} <= set(outputs)
    for name, content in outputs.items():
        for value in planted:
            assert value.encode() not in content, f"{value!r} found in {name}"
        assert b"@exemple.test" not in content, name
