"""A real HTTP server on the test database, for outside clients (GDAL's OAPIF driver, curl).

The OGC API runs its own asyncpg pool (tipg), so it only sees committed rows: tests
that need extra rows commit them and clean up after themselves.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from carto.app import create_app
from carto.settings import Settings
from tests.conftest import serve_in_thread


@pytest.fixture(scope="session")
def live_url(demo_db: str, settings: Settings) -> Iterator[str]:
    """Base URL of the app served by uvicorn in a thread, on the run's database."""
    with serve_in_thread(create_app(settings, db_url=demo_db)) as base:
        yield base


def gdal(*args: str) -> str:
    """Run a GDAL command line tool (gdal-bin), returning its standard output."""
    done = subprocess.run(list(args), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def ogr_geojson(source: str, layer: str) -> dict[str, Any]:
    """A layer read by GDAL (any driver), as a GeoJSON FeatureCollection."""
    return json.loads(gdal("ogr2ogr", "-f", "GeoJSON", "/vsistdout/", source, layer))


def public_views(db_url: str) -> dict[str, int]:
    """Every spatial view of public_layers with its row count."""
    with psycopg.connect(db_url) as conn:
        views = [
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT c.relname FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " JOIN pg_attribute a ON a.attrelid = c.oid"
                " WHERE n.nspname = 'public_layers' AND c.relkind = 'v'"
                " AND a.atttypid = 'geometry'::regtype"
            )
        ]
        return {
            v: conn.execute(f'SELECT count(*) FROM public_layers."{v}"').fetchone()[0]  # type: ignore[index]
            for v in views
        }
