"""The cheap "is the database migrated?" check: the heads read from the migration files'
headers are Alembic's own, and a database is taken as migrated only at every head."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import psycopg
import pytest
from alembic.script import ScriptDirectory

from carto.db import with_driver
from carto.runtime import alembic_config, is_migrated, migration_heads, upgrade


def test_heads_read_from_the_files_are_what_alembic_writes(db_url):
    """The run's database was upgraded by Alembic: its version rows are the heads."""
    with psycopg.connect(db_url) as conn:
        rows = {r[0] for r in conn.execute("SELECT version_num FROM alembic_version")}
    assert rows == migration_heads()
    assert is_migrated(db_url)
    every_branch = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    assert migration_heads() <= every_branch and len(migration_heads()) > 1


@pytest.fixture
def empty_db(server_url: str) -> Iterator[str]:
    name = f"carto_heads_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_driver(server_url, "psycopg").set(database=name, drivername="postgresql") \
            .render_as_string(hide_password=False)  # fmt: skip
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_database_behind_a_head_is_not_migrated_and_upgrade_runs(empty_db):
    assert not is_migrated(empty_db)  # no alembic_version at all
    heads = sorted(migration_heads())
    with psycopg.connect(empty_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version SELECT unnest(%s::text[])", (heads[1:],))
    assert not is_migrated(empty_db)  # one branch behind
    with psycopg.connect(empty_db, autocommit=True) as conn:
        conn.execute("INSERT INTO alembic_version VALUES (%s), ('zz99')", (heads[0],))
    assert not is_migrated(empty_db)  # an unknown revision too
    with psycopg.connect(empty_db, autocommit=True) as conn:
        conn.execute("DROP TABLE alembic_version")
    upgrade(empty_db)
    assert is_migrated(empty_db)
