"""tiles: point tiles read from `tiles.heat_point` through a covering index

A dense z14 tile of the bench (1 M points over the MEL, ~2,400 points a tile)
cost ~5.5 ms in PostgreSQL: ~0.8 µs a point to find the rows through the GiST
index of the view and fetch them from the heap, and 1.1-1.5 µs a point in
`ST_AsMVTGeom` + `ST_AsMVT`. `tiles.heat_point` already holds, for every feature
of a point layer, its position, id, two dimensions and weight, kept current by
the layer's trigger in the writing transaction. With one fixed-width record per
feature and a covering SP-GiST index per layer that sets `stored_points`, a tile
is one index-only scan and a `string_agg` of the records; the MVT is encoded outside the database
(carto/tiles/point_encoder.py). Reading the columns instead and packing them with
`array_send` cost ~1 µs a point more: every element's send function allocates.

Revision ID: g008
Revises: g007
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

from carto.migrations.revisions import load_revision

revision: str = "g008"
down_revision: str | None = "g007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What a tile shows of a feature as one fixed-width record (x, y as float8, id as int8,
# weight as float8; big-endian): a tile concatenates its features' records
# (`string_agg`), no function call per point. Ids that are not integers (no layer has
# any) are recorded as 0; such a layer cannot set `stored_points`.
COLUMNS = r"""
ALTER TABLE tiles.heat_point
    ADD COLUMN rec bytea GENERATED ALWAYS AS (
        float8send(x) || float8send(y)
        || int8send(CASE WHEN id ~ '^-?[0-9]{1,18}$' THEN id::bigint ELSE 0 END)
        || float8send(w)) STORED;
"""

# One SP-GiST index per stored layer (partial: a tile reads only its layer's points),
# covering what a tile reads, so that a tile is one index-only scan. Measured on 1 M
# points over the MEL: a dense z14 tile 4.5 ms against 4.9 ms for a btree on zoom-20
# cells probed row by row (68 probes a tile) and 16 ms with ST_AsMVT; an empty tile
# 0.31 ms against 0.48 and 0.25 (the same run; SELECT 1 took 0.17 ms).
INDEX = r"""
CREATE FUNCTION tiles.point_index_name(p_layer text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT 'heat_point_' || substr(md5(p_layer), 1, 12) $$;

CREATE FUNCTION tiles.index_point_layer(p_layer text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'CREATE INDEX IF NOT EXISTS %I ON tiles.heat_point USING spgist (point(x, y))'
        ' INCLUDE (x, y, id, dim_a, dim_b, w, rec) WHERE layer = %L',
        tiles.point_index_name(p_layer), p_layer);
END $$;

SELECT tiles.index_point_layer('signalements');
"""

# point_apply inserted `VALUES (cur.*)`: with generated columns the row type is wider,
# so the columns are named (the compiled readers fill the first eleven).
OLD_INSERT = "INSERT INTO tiles.heat_point VALUES (cur.*)"
NEW_INSERT = (
    "INSERT INTO tiles.heat_point (layer, id, x, y, bxmin, bymin, bxmax, bymax, dim_a, dim_b, w)"
    "\n        VALUES (cur.layer, cur.id, cur.x, cur.y, cur.bxmin, cur.bymin, cur.bxmax,"
    " cur.bymax, cur.dim_a, cur.dim_b, cur.w)"
)


def _apply_sql(insert: str) -> str:
    g007 = load_revision("g007_compiled_point_triggers")
    assert OLD_INSERT in g007.APPLY
    return g007.APPLY.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1).replace(
        OLD_INSERT, insert
    )


def upgrade() -> None:
    op.execute(_apply_sql(NEW_INSERT))
    op.execute(COLUMNS)
    op.execute(INDEX)


def downgrade() -> None:
    op.execute("ALTER TABLE tiles.heat_point DROP COLUMN rec")  # drops the layers' indexes
    op.execute("DROP FUNCTION tiles.index_point_layer(text)")
    op.execute("DROP FUNCTION tiles.point_index_name(text)")
    op.execute(_apply_sql(OLD_INSERT))
