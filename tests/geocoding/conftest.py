"""The BAN fixture (tests/data/adresses-fixture.csv) loaded once, committed, for the
geocoding tests (the API reads it through its own sessions); removed at the end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from carto.geocoding.importer import AddressImport, import_addresses

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "adresses-fixture.csv"


@pytest.fixture(scope="session")
def ban_loaded(demo_db: str) -> Iterator[AddressImport]:
    with psycopg.connect(demo_db) as conn:
        report = import_addresses(conn, FIXTURE)
        conn.commit()
    yield report
    with psycopg.connect(demo_db) as conn:
        conn.execute("DELETE FROM geocode_address; DELETE FROM geocode_street")
