"""The set-based rebuild (`tiles.rebuild_heat`) builds exactly the grid the write
triggers keep, brings a stale `tiles.heat_point` back in line with the view, and when
few points changed behind the triggers' back (a bulk re-import) reaches the same grid
through the write path without recomputing it."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.tiles.conftest import LAYER

SEED = """
INSERT INTO tiles_test.point (service_code, state, supports, geom)
SELECT (ARRAY['voirie', 'eclairage', 'proprete', ''])[1 + floor(random() * 4)::int],
       (ARRAY['new', 'resolved', 'rejected'])[1 + floor(random() * 3)::int],
       floor(random() * 6)::int,
       -- a dense cluster around Lille (shared cells) and points spread over France
       CASE WHEN g % 3 = 0
            THEN ST_SetSRID(ST_MakePoint(3.06 + random() * 0.004, 50.63 + random() * 0.004), 4326)
            ELSE ST_SetSRID(ST_MakePoint(-4 + random() * 11, 43 + random() * 7), 4326) END
FROM generate_series(1, 400) g
"""
MOVE = """
UPDATE tiles_test.point
SET geom = ST_SetSRID(ST_MakePoint(ST_X(geom) + 0.3, ST_Y(geom) - 0.2), 4326),
    state = CASE WHEN id % 2 = 0 THEN 'resolved' ELSE state END, supports = supports + 1
WHERE id % 7 = 0
"""
GRID = """SELECT dim_a, level, cy, cx, dim_b, n, w FROM tiles.heat_cell WHERE layer = :l
          ORDER BY 1, 2, 3, 4, 5"""
PARTITION = "SELECT to_regclass('tiles.heat_cell_' || substr(md5(:l), 1, 12))::oid"
POINTS = """SELECT id, x, y, bxmin, bymin, bxmax, bymax, dim_a, dim_b, w, rec
            FROM tiles.heat_point WHERE layer = :l ORDER BY id"""


async def rows(session: AsyncSession, sql: str) -> list[tuple]:
    return [tuple(r) for r in (await session.execute(text(sql), {"l": LAYER})).all()]


async def test_rebuild_equals_the_grid_the_triggers_keep(session: AsyncSession, test_layer) -> None:
    await session.execute(text("SELECT setseed(0.22)"))
    await session.execute(text(SEED))
    await session.execute(text(MOVE))  # moves, and changes of dims and weight
    await session.execute(text("DELETE FROM tiles_test.point WHERE id % 5 = 0"))
    await session.execute(text("SELECT tiles.fold_heat()"))
    kept, points = await rows(session, GRID), await rows(session, POINTS)
    alive = (await session.execute(text("SELECT count(*) FROM tiles_test.point"))).scalar_one()
    assert len(points) == alive > 250 and len(kept) > 1000
    built = (await session.execute(text("SELECT tiles.rebuild_heat(:l)"), {"l": LAYER})).scalar()
    assert built == alive
    assert await rows(session, GRID) == kept
    assert await rows(session, POINTS) == points
    partition = await scalar(session, PARTITION)
    assert partition is not None  # the grid now lives in the layer's own partition

    # A stale point index (a moved, a lost, a foreign row) is brought back in line.
    await session.execute(text(
        "UPDATE tiles.heat_point SET x = x + 500, dim_b = 'x' WHERE layer = :l AND id::int % 3 = 0"
    ), {"l": LAYER})  # fmt: skip
    await session.execute(text(
        "DELETE FROM tiles.heat_point WHERE layer = :l AND id::int % 4 = 1"
    ), {"l": LAYER})  # fmt: skip
    await session.execute(text(
        "INSERT INTO tiles.heat_point (layer, id, x, y, bxmin, bymin, bxmax, bymax, dim_a,"
        " dim_b, w) VALUES (:l, '999999', 0, 0, 0, 0, 0, 0, 'voirie', 'new', 1)"
    ), {"l": LAYER})  # fmt: skip
    await session.execute(text("SELECT tiles.rebuild_heat(:l)"), {"l": LAYER})
    assert await rows(session, POINTS) == points
    assert await rows(session, GRID) == kept
    assert await scalar(session, PARTITION) != partition  # recomputed: too many differed


async def scalar(session: AsyncSession, sql: str) -> object:
    return (await session.execute(text(sql), {"l": LAYER})).scalar()


BEHIND_TRIGGERS = """
ALTER TABLE tiles_test.point DISABLE TRIGGER tiles_test_points;
UPDATE tiles_test.point SET geom = ST_SetSRID(ST_MakePoint(2.35, 48.85), 4326) WHERE id = {a};
UPDATE tiles_test.point SET state = 'rejected', supports = supports + 3 WHERE id = {b};
UPDATE tiles_test.point SET supports = supports + 2 WHERE id = {c};
DELETE FROM tiles_test.point WHERE id = {d};
INSERT INTO tiles_test.point (service_code, state, supports, geom)
VALUES ('voirie', 'new', 4, ST_SetSRID(ST_MakePoint(5.37, 43.3), 4326));
ALTER TABLE tiles_test.point ENABLE TRIGGER tiles_test_points;
"""


async def test_few_changes_go_through_the_write_path(session: AsyncSession, test_layer) -> None:
    await session.execute(text("SELECT setseed(0.31)"))
    await session.execute(text(SEED))
    await session.execute(text("SELECT tiles.rebuild_heat(:l, true)"), {"l": LAYER})
    partition = await scalar(session, PARTITION)
    ids = (await session.execute(text("SELECT id FROM tiles_test.point ORDER BY id"))).scalars()
    a, b, c, d = list(ids)[1:5]
    for statement in BEHIND_TRIGGERS.format(a=a, b=b, c=c, d=d).strip().split(";\n"):
        await session.execute(text(statement))  # a re-import the triggers did not see
    stale = await rows(session, GRID)

    await session.execute(text("SELECT tiles.rebuild_heat(:l)"), {"l": LAYER})
    assert await scalar(session, PARTITION) == partition  # not recomputed
    assert await scalar(session, "SELECT count(*) FROM tiles.heat_delta") == 0  # folded
    incremental, points = await rows(session, GRID), await rows(session, POINTS)
    assert incremental != stale
    await session.execute(text("SELECT tiles.rebuild_heat(:l, true)"), {"l": LAYER})
    assert await scalar(session, PARTITION) != partition
    assert await rows(session, GRID) == incremental
    assert await rows(session, POINTS) == points

    # A point index that disagrees with the grid is not trusted, even for one change.
    await session.execute(text(
        "UPDATE tiles.heat_point SET dim_b = 'x' WHERE layer = :l AND id = :i"
    ), {"l": LAYER, "i": str(a)})  # fmt: skip
    assert await scalar(session, "SELECT tiles.heat_agrees(:l)") is False
    await session.execute(text("SELECT tiles.rebuild_heat(:l)"), {"l": LAYER})
    assert await rows(session, GRID) == incremental
    assert await rows(session, POINTS) == points
