"""Concurrent writers of a point layer never wait for each other, and the heat grid and
the tile cache stay exact (heat deltas, per-tile write log and locks: carto/tiles/sql/cache.sql
and heat.sql)."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text

from carto.tiles.grid import mercator_tms
from tests.tiles.conftest import LAYER, add_points

LILLE = (3.0573, 50.6292)
ROUBAIX = (3.1746, 50.6942)
INSERT = (
    "INSERT INTO tiles_test.point (service_code, state, geom) VALUES "
    "(%s, 'new', ST_SetSRID(ST_MakePoint(%s, %s), 4326)) RETURNING id"
)
PUT = "SELECT tiles.cache_put(%s, %s, %s, %s, '', '\\x00', 'e', %s::pg_snapshot)"


@pytest.fixture
def two(demo_db, test_layer):
    """Two autocommit connections, the test layer emptied of their points afterwards."""
    with psycopg.connect(demo_db) as a, psycopg.connect(demo_db) as b:
        yield a, b
    with psycopg.connect(demo_db, autocommit=True) as conn:
        conn.execute("DELETE FROM tiles_test.point")
        conn.execute("DELETE FROM tiles.tile_cache WHERE layer = %s", (LAYER,))
        conn.execute("SELECT tiles.fold_heat(interval '0')")


def test_two_writers_in_the_same_cells_do_not_wait_for_each_other(two):
    a, b = two
    a.execute(INSERT, ("voirie", *LILLE))
    # Same heat cells at every low level, same tiles at low zooms: before the write log the second
    # insert waited for the first one's commit (the layer row and the shared cells).
    b.execute("SET lock_timeout = '2s'")
    b.execute(INSERT, ("voirie", LILLE[0] + 0.0001, LILLE[1]))
    b.commit()
    a.commit()
    total = b.execute(
        "SELECT sum(n) FROM tiles.heat_cells WHERE layer = %s AND level = 5 AND dim_a = ''",
        (LAYER,),
    ).fetchone()[0]
    assert total == 2


def test_a_tile_is_not_stored_while_a_writer_of_it_is_in_flight(two, demo_db):
    a, b = two
    tile = mercator_tms().tile(*LILLE, 14)
    far = mercator_tms().tile(*ROUBAIX, 14)
    snapshot = b.execute("SELECT pg_current_snapshot()::text").fetchone()[0]
    b.commit()
    a.execute(INSERT, ("voirie", *LILLE))  # not committed yet
    with psycopg.connect(demo_db, autocommit=True) as reader:
        assert reader.execute(PUT, (LAYER, 14, tile.x, tile.y, snapshot)).fetchone()[0] is False
        assert reader.execute(PUT, (LAYER, 14, far.x, far.y, snapshot)).fetchone()[0] is True
    a.commit()
    with psycopg.connect(demo_db, autocommit=True) as reader:
        fresh = reader.execute("SELECT pg_current_snapshot()::text").fetchone()[0]
        assert reader.execute(PUT, (LAYER, 14, tile.x, tile.y, fresh)).fetchone()[0] is True


def test_a_render_older_than_the_pruned_log_is_not_stored(two, demo_db):
    a, _ = two
    tile = mercator_tms().tile(*ROUBAIX, 15)
    with psycopg.connect(demo_db, autocommit=True) as reader:
        old = reader.execute("SELECT pg_current_snapshot()::text").fetchone()[0]
        a.execute(INSERT, ("voirie", *LILLE))
        a.commit()
        # Two prunes: the first records the horizon, the second moves it past `old`.
        for _ in range(2):
            reader.execute("SELECT tiles.fold_heat(interval '0')")
        assert reader.execute(PUT, (LAYER, 15, tile.x, tile.y, old)).fetchone()[0] is False
        fresh = reader.execute("SELECT pg_current_snapshot()::text").fetchone()[0]
        assert reader.execute(PUT, (LAYER, 15, tile.x, tile.y, fresh)).fetchone()[0] is True


async def test_heat_counts_are_exact_before_and_after_the_fold(session, test_layer):
    ids = await add_points(session, [{"lon": LILLE[0], "lat": LILLE[1]}] * 3)
    await session.execute(
        text("UPDATE tiles_test.point SET state = 'resolved' WHERE id = :id"), {"id": ids[0]}
    )
    await session.execute(text("DELETE FROM tiles_test.point WHERE id = :id"), {"id": ids[1]})
    query = text(
        """SELECT dim_b, sum(n) FROM tiles.heat_cells
           WHERE layer = :l AND level = 18 AND dim_a = 'voirie' GROUP BY dim_b ORDER BY 1"""
    )
    before = (await session.execute(query, {"l": LAYER})).all()
    assert [tuple(r) for r in before] == [("new", 1), ("resolved", 1)]
    pending = await session.scalar(
        text("SELECT count(*) FROM tiles.heat_delta WHERE layer = :l"), {"l": LAYER}
    )
    assert pending > 0
    moved = await session.scalar(text("SELECT tiles.fold_heat()"))
    assert moved == pending
    after = (await session.execute(query, {"l": LAYER})).all()
    assert after == before
    empty = await session.scalar(
        text("SELECT count(*) FROM tiles.heat_cell WHERE layer = :l AND n <= 0"), {"l": LAYER}
    )
    assert empty == 0  # the fold drops the cells it left empty
