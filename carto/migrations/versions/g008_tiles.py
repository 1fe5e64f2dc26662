"""tiles schema: hot-tile cache, heat count grid, simplified layer geometries (baseline)

Everything the tile server precomputes lives in the `tiles` schema and is kept
current by triggers, so writers call nothing:

- `tile_cache`: rendered MVT tiles, deleted for exactly the tiles a write changes;
  `write_log` and `log_horizon` let a reader know whether the tile it rendered may
  still be stored (carto/tiles/sql/cache.sql);
- `heat_cell`: point counts per XYZ cell for the heat levels, partitioned by layer,
  per (dim_a, dim_b) combination plus a total row with empty dims; `heat_delta`
  holds the writes not folded in yet; `heat_point` remembers what each feature
  contributed (and its fixed-width tile record, `rec`), so that updates and deletes
  subtract exactly that and dense point tiles are one index-only scan;
- `polygon_geom`: polygon layers in EPSG:3857, simplified per zoom band.

This revision squashes g001-g008 (the history up to commit 7ac8bc4, where each
step's measurements are told). It keeps the id g008, so that a database migrated by
that history is at this revision; the next revision brings it to the current tile
SQL. The tables are here; every function, view and trigger is in
carto/tiles/sql/*.sql, applied by `apply_tile_sql`.

Revision ID: g008
Revises: l001
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

from carto.tiles.grid import ZOOM_BANDS
from carto.tiles.layers import POINT_LAYERS, POLYGON_LAYERS
from carto.tiles.schema import apply_tile_sql, sql_values

revision: str = "g008"
down_revision: str | None = "l001"
branch_labels: str | Sequence[str] | None = ("tiles",)
depends_on: str | Sequence[str] | None = ("c001", "s001")

# Text keys use the "C" collation: sorts and B-tree probes compare bytes (the
# database default, C.UTF-8, goes through strcoll).
TABLES = """
CREATE SCHEMA IF NOT EXISTS tiles;

CREATE TABLE tiles.point_layer (
    layer text PRIMARY KEY,
    source text NOT NULL,
    id_type text NOT NULL DEFAULT 'bigint',
    dim_a text NOT NULL,
    dim_b text NOT NULL,
    weight text NOT NULL,
    maxzoom smallint NOT NULL DEFAULT 18,
    base_table regclass,
    id_column text
);

CREATE TABLE tiles.polygon_layer (
    layer text PRIMARY KEY,
    source text NOT NULL,
    props text[] NOT NULL,
    maxzoom smallint NOT NULL DEFAULT 18,
    id_type text NOT NULL DEFAULT 'text'
);

CREATE TABLE tiles.band (
    band smallint PRIMARY KEY,
    minzoom smallint NOT NULL,
    maxzoom smallint NOT NULL,
    simplify boolean NOT NULL
);

CREATE TABLE tiles.layer_state (
    layer text PRIMARY KEY,
    last_xid xid8,
    changed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tiles.tile_cache (
    layer text COLLATE "C" NOT NULL,
    z smallint NOT NULL,
    x integer NOT NULL,
    y integer NOT NULL,
    variant text COLLATE "C" NOT NULL,
    body bytea NOT NULL,
    etag text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (layer, z, x, y, variant)
);

-- What a tile shows of a feature as one fixed-width record (x, y as float8, id as int8,
-- weight as float8; big-endian): a tile concatenates its features' records. Ids that
-- are not integers are recorded as 0; such a layer cannot set `stored_points`.
CREATE TABLE tiles.heat_point (
    layer text COLLATE "C" NOT NULL,
    id text COLLATE "C" NOT NULL,
    x double precision NOT NULL,
    y double precision NOT NULL,
    bxmin double precision NOT NULL,
    bymin double precision NOT NULL,
    bxmax double precision NOT NULL,
    bymax double precision NOT NULL,
    dim_a text NOT NULL,
    dim_b text NOT NULL,
    w double precision NOT NULL,
    rec bytea GENERATED ALWAYS AS (
        float8send(x) || float8send(y)
        || int8send(CASE WHEN id ~ '^-?[0-9]{1,18}$' THEN id::bigint ELSE 0 END)
        || float8send(w)) STORED,
    PRIMARY KEY (layer, id)
);

CREATE TABLE tiles.heat_cell (
    layer text COLLATE "C" NOT NULL,
    dim_a text COLLATE "C" NOT NULL,
    level smallint NOT NULL,
    cy integer NOT NULL,
    cx integer NOT NULL,
    dim_b text COLLATE "C" NOT NULL,
    n integer NOT NULL,
    w double precision NOT NULL,
    PRIMARY KEY (layer, dim_a, level, cy, cx, dim_b)
) PARTITION BY LIST (layer);
CREATE INDEX heat_cell_dim_b ON tiles.heat_cell (layer, dim_b, level, cy, cx)
    WHERE dim_b <> '';
-- Cells a fold left empty, found without scanning the grid.
CREATE INDEX heat_cell_empty ON tiles.heat_cell (layer) WHERE n <= 0;
CREATE TABLE tiles.heat_cell_default PARTITION OF tiles.heat_cell DEFAULT;

CREATE TABLE tiles.heat_delta (
    layer text COLLATE "C" NOT NULL,
    x double precision NOT NULL,
    y double precision NOT NULL,
    dim_a text COLLATE "C" NOT NULL,
    dim_b text COLLATE "C" NOT NULL,
    n integer NOT NULL,
    w double precision NOT NULL
);
CREATE INDEX heat_delta_layer ON tiles.heat_delta (layer);

CREATE TABLE tiles.heat_stats (
    layer text NOT NULL,
    variant text NOT NULL,
    level smallint NOT NULL,
    weighted boolean NOT NULL,
    p99 double precision NOT NULL,
    computed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (layer, variant, level, weighted)
);

CREATE TABLE tiles.write_log (
    layer text COLLATE "C" NOT NULL,
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    bxmin double precision,  -- NULL: the whole layer
    bymin double precision,
    bxmax double precision,
    bymax double precision,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX write_log_layer_xid ON tiles.write_log (layer, xid);

CREATE TABLE tiles.log_horizon (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    horizon xid8 NOT NULL,
    next_horizon xid8 NOT NULL,
    pruned_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO tiles.log_horizon (horizon, next_horizon)
VALUES ('0', pg_snapshot_xmin(pg_current_snapshot()));

CREATE TABLE tiles.polygon_geom (
    layer text NOT NULL,
    band smallint NOT NULL,
    id text NOT NULL,
    props jsonb NOT NULL,
    geom_3857 geometry(Geometry, 3857) NOT NULL,
    PRIMARY KEY (layer, band, id)
);
CREATE INDEX polygon_geom_b0 ON tiles.polygon_geom USING gist (geom_3857) WHERE band = 0;
CREATE INDEX polygon_geom_b1 ON tiles.polygon_geom USING gist (geom_3857) WHERE band = 1;
CREATE INDEX polygon_geom_b2 ON tiles.polygon_geom USING gist (geom_3857) WHERE band = 2;
CREATE INDEX polygon_geom_b3 ON tiles.polygon_geom USING gist (geom_3857) WHERE band = 3;
"""


def upgrade() -> None:
    op.execute(TABLES)
    op.execute(f"INSERT INTO tiles.band VALUES {sql_values(ZOOM_BANDS)}")
    apply_tile_sql(op.execute)
    for layer in POINT_LAYERS:
        op.execute(f"SELECT tiles.rebuild_heat('{layer.name}')")
    for layer in POLYGON_LAYERS:
        op.execute(f"SELECT tiles.refresh_polygons('{layer.name}', NULL)")


def downgrade() -> None:
    # The layers' triggers depend on the schema's functions and go with them.
    op.execute("DROP SCHEMA IF EXISTS tiles CASCADE")
