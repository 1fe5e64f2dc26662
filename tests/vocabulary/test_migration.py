"""Migration c002 down and up again: the downgrade restores c001's view (its CASE) and
drops the table; the upgrade brings the table and the join back."""

from __future__ import annotations

import secrets

import psycopg
from alembic import command

from carto.db import make_sync_engine, with_driver
from carto.runtime import alembic_config, upgrade
from carto.vocabulary.terms import rows

VIEWDEF = "SELECT pg_get_viewdef('public_layers.contributions'::regclass)"


def test_c002_downgrades_and_upgrades(server_url: str) -> None:
    name = f"vocab_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = (
        with_driver(server_url, "psycopg")
        .set(database=name, drivername="postgresql")
        .render_as_string(hide_password=False)
    )
    engine = make_sync_engine(url)
    try:
        upgrade(url)
        with engine.begin() as conn:
            command.downgrade(alembic_config(connection=conn), "c002-1")
        with engine.connect() as conn:
            assert "CASE" in conn.exec_driver_sql(VIEWDEF).scalar_one()
            assert conn.exec_driver_sql("SELECT to_regclass('vocabulary')").scalar() is None
        upgrade(url)
        with engine.connect() as conn:
            assert "vocabulary" in conn.exec_driver_sql(VIEWDEF).scalar_one()
            count = conn.exec_driver_sql("SELECT count(*) FROM vocabulary").scalar_one()
            assert count == len(rows())
    finally:
        engine.dispose()
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
