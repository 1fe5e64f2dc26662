"""The geocoding branch goes down (tables, function, the columns it added to territory and
street tables) and up again; the postcode table ships with it."""

from __future__ import annotations

import secrets

import psycopg
from alembic import command

from carto.db import make_sync_engine, with_driver
from carto.runtime import alembic_config, upgrade

OURS = "SELECT count(*) FROM pg_class WHERE relname LIKE 'geocode_%' AND relkind = 'r'"
COLUMNS = (
    "SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
    " WHERE a.attname = 'geo_norm' AND NOT a.attisdropped AND c.relkind = 'r'"
)


def test_geocoding_branch_down_and_up(server_url):
    name = f"carto_geo_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = (
        with_driver(server_url, "psycopg")
        .set(database=name, drivername="postgresql")
        .render_as_string(hide_password=False)
    )
    try:
        upgrade(url)
        with psycopg.connect(url) as conn:
            assert conn.execute(OURS).fetchone() == (3,)
            assert conn.execute(COLUMNS).fetchone() == (3,)
            assert conn.execute("SELECT count(*) > 35000 FROM geocode_postcode").fetchone() == (
                True,
            )
            assert conn.execute(
                "SELECT carto_geo_norm('12 Bd  Saint-Michel, Lyon 3ème Arrondissement')"
            ).fetchone() == ("12 boulevard saint michel lyon 3e",)
        engine = make_sync_engine(url)
        try:
            with engine.begin() as conn:
                command.downgrade(alembic_config(connection=conn), "geocoding@base")
        finally:
            engine.dispose()
        with psycopg.connect(url) as conn:
            assert conn.execute(OURS).fetchone() == (0,)
            assert conn.execute(COLUMNS).fetchone() == (0,)
        upgrade(url)
        with psycopg.connect(url) as conn:
            assert conn.execute(OURS).fetchone() == (3,)
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
