"""A point layer of our own (`test_points`), wired like the product's point layers.

Its table has a stored `geom_3857` with a GiST index, a view plays the public
view, and `tiles.attach_point_layer` gives it the same triggers. Rows are added
per test in the rolled-back session, so every test starts from an empty layer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import psycopg
import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from carto.app import create_app
from carto.db import get_session
from carto.settings import Settings
from carto.tiles.layers import TILE_LAYERS, Filter, TileLayer

LAYER = "test_points"

TEST_LAYER = TileLayer(
    name=LAYER,
    kind="point",
    source="tiles_test.points",
    title="Points de test",
    description="Couche de test",
    properties={
        "id": "Number",
        "service_code": "String",
        "state": "String",
        "supports": "Number",
        "count": "Number",
    },
    filters=(Filter("service_code", "service_code", "a"), Filter("state", "state", "b")),
    date_column="created_at",
    weights={"supports": "supports"},
    cluster_below=12,
    stored_points=True,  # like signalements; test_stored_points compares with ST_AsMVT
)

SCHEMA = f"""
CREATE SCHEMA IF NOT EXISTS tiles_test;
CREATE TABLE IF NOT EXISTS tiles_test.point (
    id bigserial PRIMARY KEY,
    service_code text NOT NULL,
    state text NOT NULL,
    supports integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    geom geometry(Point, 4326) NOT NULL,
    geom_3857 geometry(Point, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED
);
CREATE INDEX IF NOT EXISTS tiles_test_point_geom_3857 ON tiles_test.point USING gist (geom_3857);
CREATE OR REPLACE VIEW tiles_test.points AS
    SELECT id, service_code, state, supports, created_at, geom, geom_3857 FROM tiles_test.point;
INSERT INTO tiles.point_layer (layer, source, id_type, dim_a, dim_b, weight, maxzoom)
VALUES ('{LAYER}', 'tiles_test.points', 'bigint', 'service_code', 'state', 'supports', 18)
ON CONFLICT (layer) DO NOTHING;
"""


@pytest.fixture(scope="session")
def test_layer(demo_db: str) -> Iterator[TileLayer]:
    with psycopg.connect(demo_db, autocommit=True) as conn:
        conn.execute(SCHEMA)
        exists = conn.execute(
            "SELECT 1 FROM pg_trigger WHERE tgname = %s", (f"tiles_{LAYER}",)
        ).fetchone()
        if not exists:
            conn.execute("SELECT tiles.attach_point_layer(%s, 'tiles_test.point', 'id')", (LAYER,))
        conn.execute("SELECT tiles.index_point_layer(%s)", (LAYER,))  # stored_points
    TILE_LAYERS.register(TEST_LAYER.name, TEST_LAYER)
    yield TEST_LAYER
    TILE_LAYERS.unregister(LAYER)


@pytest.fixture(scope="session")
def tile_settings(settings: Settings) -> Settings:
    """Cache every tile, however cheap, so that cache tests see every render."""
    return settings.model_copy(update={"tile_cache": True, "tile_cache_min_ms": 0.0})


@pytest.fixture
async def tclient(
    tile_settings: Settings, session: AsyncSession, test_layer: TileLayer
) -> AsyncIterator[AsyncClient]:
    app = create_app(tile_settings)

    async def _session() -> AsyncIterator[AsyncSession]:
        yield session

    app.dependency_overrides[get_session] = _session
    app.state.engine = session.bind
    app.state.sessionmaker = None
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as ac:
        yield ac


async def add_points(session: AsyncSession, rows: list[dict[str, Any]]) -> list[int]:
    """Insert points ({lon, lat, service_code?, state?, supports?, created_at?}); their ids."""
    ids = []
    for row in rows:
        params = {
            "service_code": "voirie",
            "state": "new",
            "supports": 0,
            "created_at": None,
            **row,
        }
        result = await session.execute(
            text(
                """INSERT INTO tiles_test.point (service_code, state, supports, created_at, geom)
                   VALUES (:service_code, :state, :supports, coalesce(:created_at, now()),
                           ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)) RETURNING id"""
            ),
            params,
        )
        ids.append(int(result.scalar_one()))
    return ids
