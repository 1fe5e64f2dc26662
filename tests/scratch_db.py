"""A demo database of its own for tests whose writes are committed (fuzzing, scans,
hostile input served over HTTP), created on the run's server and dropped afterwards."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from carto.db import with_driver
from carto.runtime import upgrade


@contextmanager
def scratch_demo_db(server_url: str, prefix: str) -> Iterator[str]:
    """A fresh, migrated database with the demo loaded; yields its libpq URL."""
    from carto.demo.loader import load_demo

    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = (
        with_driver(server_url, "psycopg")
        .set(database=name, drivername="postgresql")
        .render_as_string(hide_password=False)
    )
    try:
        upgrade(url)
        load_demo(url)
        yield url
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
