"""tiles: point-layer triggers compiled per layer, tile ranges by arithmetic

Measured with pgbench (8 clients, 2 cores) on the demo database: a signalement
INSERT ran at ~650/s with the tile trigger and ~4,200/s without it; the trigger
cost ~2 ms of CPU per row, in four parts:

- `point_changed` read the feature from the layer's view with a dynamic `EXECUTE`,
  planned again on every row (~0.7 ms). Now `tiles.attach_point_layer` compiles a
  trigger function per layer whose read is static SQL: PL/pgSQL caches its plan.
- `on_point_row` found the feature id with `to_jsonb(NEW)`, serialising the whole
  row, geometry and description included (~0.2 ms). The compiled trigger reads
  `NEW.<id column>`.
- `note_write` computed each zoom's tile range with four `ST_TileEnvelope` calls
  (160 calls per row). `tiles.tile_ranges` and `tiles.cache_put` now share
  `tiles.tile_margin(z)`, plain arithmetic on the grid's constants.
- `heat_add` appended 28 rows to `tiles.heat_delta` (14 levels, total and dims),
  each with two index entries: ~70 of the 77 WAL records the trigger added per row
  (9.4 kB of WAL per insert against 1.8 kB without the trigger), and WAL writes were
  what the inserting backends waited for. A delta is now one row, the point itself;
  the fold expands it to the levels, and the heat reader reads the pending points
  once per tile (carto/tiles/sql.py) instead of probing them per cell row.
- What the row changes (heat deltas, write log, cache invalidation) is the old
  logic, now `tiles.point_apply`, with static SQL throughout.

`tiles.point_layer` remembers each layer's table and id column, so that
`tiles.compile_point_layer(layer)` can rebuild the trigger function after a layer's
row (dims, weight, max zoom) changes.

Revision ID: g007
Revises: g006
Create Date: 2026-11-22
"""

import hashlib
from collections.abc import Sequence

from alembic import op

from carto.migrations.revisions import load_revision

revision: str = "g007"
down_revision: str | None = "g006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The world extent of ST_TileEnvelope(0, 0, 0): width 40075016.68557849 (EPSG:3857).
GRID = """
CREATE FUNCTION tiles.tile_margin(z integer) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT 40075016.68557849 / 2 ^ z * tiles.buffer_ratio()
$$;

CREATE OR REPLACE FUNCTION tiles.tile_ranges(
    p_xmin double precision, p_ymin double precision,
    p_xmax double precision, p_ymax double precision, p_maxzoom integer
) RETURNS TABLE (zz integer, x0 integer, x1 integer, y0 integer, y1 integer)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT zz, tiles.tile_x(p_xmin - m, zz), tiles.tile_x(p_xmax + m, zz),
           tiles.tile_y(p_ymax + m, zz), tiles.tile_y(p_ymin - m, zz)
    FROM generate_series(0, p_maxzoom) AS zz, LATERAL (SELECT tiles.tile_margin(zz) AS m) b
$$;

CREATE OR REPLACE FUNCTION tiles.cache_put(
    p_layer text, p_z integer, p_x integer, p_y integer, p_variant text,
    p_body bytea, p_etag text, p_snapshot pg_snapshot
) RETURNS boolean LANGUAGE plpgsql SET jit = off AS $$
DECLARE
    own xid8 := pg_current_xact_id_if_assigned();
    m double precision := tiles.tile_margin(p_z);
BEGIN
    IF NOT pg_try_advisory_xact_lock_shared(tiles.layer_key(p_layer))
       OR NOT pg_try_advisory_xact_lock(tiles.tile_key(p_layer, p_z, p_x, p_y)) THEN
        RETURN false;  -- a writer of this tile (or of the layer) has not committed yet
    END IF;
    IF pg_snapshot_xmin(p_snapshot) < (SELECT horizon FROM tiles.log_horizon) THEN
        RETURN false;  -- rendered before the pruned part of the log: cannot tell
    END IF;
    IF EXISTS (
        SELECT 1 FROM tiles.write_log l
        WHERE l.layer = p_layer AND l.xid >= pg_snapshot_xmin(p_snapshot)
          AND l.xid IS DISTINCT FROM own AND NOT pg_visible_in_snapshot(l.xid, p_snapshot)
          AND (l.bxmin IS NULL
               OR (p_x BETWEEN tiles.tile_x(l.bxmin - m, p_z) AND tiles.tile_x(l.bxmax + m, p_z)
                   AND p_y BETWEEN tiles.tile_y(l.bymax + m, p_z)
                                AND tiles.tile_y(l.bymin - m, p_z)))) THEN
        RETURN false;
    END IF;
    INSERT INTO tiles.tile_cache (layer, z, x, y, variant, body, etag)
    VALUES (p_layer, p_z, p_x, p_y, p_variant, p_body, p_etag)
    ON CONFLICT (layer, z, x, y, variant) DO UPDATE
        SET body = EXCLUDED.body, etag = EXCLUDED.etag, created_at = now();
    RETURN true;
END $$;
"""

# What one feature's change does to the heat grid, the write log and the cache: the
# logic of g005's point_changed, given the feature's old and current rows.
APPLY = """
CREATE FUNCTION tiles.point_apply(
    p_layer text, fid text, cur tiles.heat_point, p_maxzoom integer
) RETURNS void LANGUAGE plpgsql SET jit = off AS $$
DECLARE
    old tiles.heat_point;
    found_new boolean := cur.id IS NOT NULL;
BEGIN
    SELECT * INTO old FROM tiles.heat_point WHERE layer = p_layer AND id = fid;
    IF old.id IS NOT NULL AND found_new AND old.x = cur.x AND old.y = cur.y
       AND old.dim_a = cur.dim_a AND old.dim_b = cur.dim_b THEN
        IF old.w <> cur.w THEN
            PERFORM tiles.heat_add(p_layer, cur.x, cur.y, cur.dim_a, cur.dim_b, 0, cur.w - old.w);
        END IF;
    ELSE
        IF old.id IS NOT NULL THEN
            PERFORM tiles.heat_add(p_layer, old.x, old.y, old.dim_a, old.dim_b, -1, -old.w);
        END IF;
        IF found_new THEN
            PERFORM tiles.heat_add(p_layer, cur.x, cur.y, cur.dim_a, cur.dim_b, 1, cur.w);
        END IF;
    END IF;
    IF found_new THEN
        INSERT INTO tiles.heat_point VALUES (cur.*)
        ON CONFLICT (layer, id) DO UPDATE SET x = EXCLUDED.x, y = EXCLUDED.y,
            bxmin = EXCLUDED.bxmin, bymin = EXCLUDED.bymin, bxmax = EXCLUDED.bxmax,
            bymax = EXCLUDED.bymax, dim_a = EXCLUDED.dim_a, dim_b = EXCLUDED.dim_b, w = EXCLUDED.w;
        PERFORM tiles.note_write(p_layer, cur.bxmin, cur.bymin, cur.bxmax, cur.bymax, p_maxzoom);
    ELSIF old.id IS NOT NULL THEN
        DELETE FROM tiles.heat_point WHERE layer = p_layer AND id = fid;
    END IF;
    IF old.id IS NOT NULL AND NOT (found_new AND old.bxmin = cur.bxmin AND old.bymin = cur.bymin
            AND old.bxmax = cur.bxmax AND old.bymax = cur.bymax) THEN
        PERFORM tiles.note_write(p_layer, old.bxmin, old.bymin, old.bxmax, old.bymax, p_maxzoom);
    END IF;
END $$;
"""

# A trigger function per layer, with the read from the layer's view as static SQL.
COMPILE = r"""
ALTER TABLE tiles.point_layer ADD COLUMN base_table regclass, ADD COLUMN id_column text;

CREATE FUNCTION tiles.point_trigger_name(p_layer text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT 'point_row_' || substr(md5(p_layer), 1, 12) $$;

CREATE FUNCTION tiles.compile_point_layer(p_layer text) RETURNS void
LANGUAGE plpgsql AS $compile$
DECLARE
    cfg tiles.point_layer;
    reader text;
BEGIN
    SELECT * INTO STRICT cfg FROM tiles.point_layer WHERE layer = p_layer;
    reader := format(
        'SELECT %L, v.id::text, ST_X(p), ST_Y(p), ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b),'
        ' coalesce(nullif((v.%I)::text, ''''), ''-''), coalesce(nullif((v.%I)::text, ''''), ''-''),'
        ' coalesce((v.%I)::double precision, 0)'
        ' FROM %s v, LATERAL (SELECT ST_PointOnSurface(v.geom_3857) AS p,'
        '                           v.geom_3857::box2d AS b) g'
        ' WHERE v.id = fid::%s AND v.geom_3857 IS NOT NULL',
        p_layer, cfg.dim_a, cfg.dim_b, cfg.weight, cfg.source, cfg.id_type);
    EXECUTE format($f$
        CREATE OR REPLACE FUNCTION tiles.%1$I(fid text) RETURNS void
        LANGUAGE plpgsql SET jit = off AS $body$
        DECLARE
            cur tiles.heat_point;
        BEGIN
            %2$s INTO cur;
            PERFORM tiles.point_apply(%3$L, fid, cur, %4$s);
        END $body$$f$,
        tiles.point_trigger_name(p_layer) || '_read', reader, p_layer, cfg.maxzoom);
    IF cfg.base_table IS NULL THEN
        RETURN;  -- a layer without a trigger (rebuilt in bulk only)
    END IF;
    EXECUTE format($f$
        CREATE OR REPLACE FUNCTION tiles.%1$I() RETURNS trigger
        LANGUAGE plpgsql SET jit = off AS $body$
        DECLARE
            new_id text;
            old_id text;
        BEGIN
            IF TG_OP <> 'DELETE' THEN
                new_id := NEW.%2$I::text;
            END IF;
            IF TG_OP <> 'INSERT' THEN
                old_id := OLD.%2$I::text;
            END IF;
            IF new_id IS NOT NULL THEN
                PERFORM tiles.%3$I(new_id);
            END IF;
            IF old_id IS NOT NULL AND old_id IS DISTINCT FROM new_id THEN
                PERFORM tiles.%3$I(old_id);
            END IF;
            RETURN NULL;
        END $body$$f$,
        tiles.point_trigger_name(p_layer), cfg.id_column,
        tiles.point_trigger_name(p_layer) || '_read');
    EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', 'tiles_' || p_layer, cfg.base_table);
    EXECUTE format(
        'CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %s'
        ' FOR EACH ROW EXECUTE FUNCTION tiles.%I()',
        'tiles_' || p_layer, cfg.base_table, tiles.point_trigger_name(p_layer));
END $compile$;

-- Attach a table's rows to a point layer (later migrations, tests): its trigger is compiled.
CREATE OR REPLACE FUNCTION tiles.attach_point_layer(
    p_layer text, p_table regclass, p_id_column text
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tiles.point_layer SET base_table = p_table, id_column = p_id_column
    WHERE layer = p_layer;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'tiles.point_layer has no layer %', p_layer;
    END IF;
    PERFORM tiles.compile_point_layer(p_layer);
END $$;
"""

# Pending heat deltas as points: one row per write, expanded to cells by the fold (and
# by the `tiles.heat_cells` view, kept for readers that want cells).
HEAT = """
SELECT tiles.fold_heat(interval '0');
DROP VIEW tiles.heat_cells;
DROP TABLE tiles.heat_delta;
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

-- The pending deltas as cells: per level, the total row and the dims row.
CREATE FUNCTION tiles.delta_cells(d tiles.heat_delta)
RETURNS TABLE (dim_a text, level smallint, cy integer, cx integer, dim_b text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT k.a, lv::smallint, tiles.tile_y(d.y, lv), tiles.tile_x(d.x, lv), k.b
    FROM generate_series(tiles.heat_min_level(), tiles.heat_max_level()) AS lv
    CROSS JOIN (VALUES ('', ''), (d.dim_a, d.dim_b)) AS k(a, b)
$$;

CREATE VIEW tiles.heat_cells AS
    SELECT layer, dim_a, level, cy, cx, dim_b, n, w FROM tiles.heat_cell
    UNION ALL
    SELECT d.layer, c.dim_a, c.level, c.cy, c.cx, c.dim_b, d.n, d.w
    FROM tiles.heat_delta d, tiles.delta_cells(d) c;

CREATE OR REPLACE FUNCTION tiles.heat_add(
    p_layer text, x double precision, y double precision,
    a text, b text, dn integer, dw double precision
) RETURNS void LANGUAGE sql AS $$
    INSERT INTO tiles.heat_delta (layer, x, y, dim_a, dim_b, n, w)
    VALUES (p_layer, x, y, a, b, dn, dw)
$$;

CREATE OR REPLACE FUNCTION tiles.fold_heat(p_prune_every interval DEFAULT '2 seconds')
RETURNS bigint LANGUAGE plpgsql SET jit = off AS $$
DECLARE
    moved bigint;
    pruned xid8;
BEGIN
    IF NOT pg_try_advisory_xact_lock(tiles.layer_key('tiles.fold_heat')) THEN
        RETURN 0;
    END IF;
    WITH d AS (DELETE FROM tiles.heat_delta RETURNING *),
    s AS (
        SELECT d.layer, c.dim_a, c.level, c.cy, c.cx, c.dim_b,
               sum(d.n)::integer AS n, sum(d.w) AS w
        FROM d, tiles.delta_cells(d::tiles.heat_delta) c
        GROUP BY d.layer, c.dim_a, c.level, c.cy, c.cx, c.dim_b),
    up AS (
        INSERT INTO tiles.heat_cell AS h (layer, dim_a, level, cy, cx, dim_b, n, w)
        SELECT layer, dim_a, level, cy, cx, dim_b, n, w FROM s
        ON CONFLICT (layer, dim_a, level, cy, cx, dim_b)
            DO UPDATE SET n = h.n + EXCLUDED.n, w = h.w + EXCLUDED.w),
    ls AS (
        INSERT INTO tiles.layer_state AS l (layer, changed_at)
        SELECT DISTINCT layer, now() FROM d
        ON CONFLICT (layer) DO UPDATE SET changed_at = EXCLUDED.changed_at)
    SELECT count(*) INTO moved FROM d;
    IF moved > 0 THEN
        DELETE FROM tiles.heat_cell WHERE n <= 0;
    END IF;
    UPDATE tiles.log_horizon
    SET horizon = next_horizon, next_horizon = pg_snapshot_xmin(pg_current_snapshot()),
        pruned_at = now()
    WHERE pruned_at < now() - p_prune_every
    RETURNING horizon INTO pruned;
    IF pruned IS NOT NULL THEN
        DELETE FROM tiles.write_log WHERE xid < pruned;
    END IF;
    RETURN moved;
END $$;
"""

DOWN_HEAT_DELTA = """
CREATE TABLE tiles.heat_delta (
    layer text COLLATE "C" NOT NULL,
    dim_a text COLLATE "C" NOT NULL,
    level smallint NOT NULL,
    cy integer NOT NULL,
    cx integer NOT NULL,
    dim_b text COLLATE "C" NOT NULL,
    n integer NOT NULL,
    w double precision NOT NULL
);
CREATE INDEX heat_delta_key ON tiles.heat_delta (layer, dim_a, level, cy, cx, dim_b);
CREATE INDEX heat_delta_dim_b ON tiles.heat_delta (layer, dim_b, level, cy, cx)
    WHERE dim_b <> '';
CREATE VIEW tiles.heat_cells AS
    SELECT layer, dim_a, level, cy, cx, dim_b, n, w FROM tiles.heat_cell
    UNION ALL
    SELECT layer, dim_a, level, cy, cx, dim_b, n, w FROM tiles.heat_delta;
"""

ATTACHED = (("signalements", "public.signalement"), ("contributions", "public.contribution"))

OLD_ATTACH = """
CREATE OR REPLACE FUNCTION tiles.attach_point_layer(p_layer text, p_table regclass, p_id_column text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %s'
        ' FOR EACH ROW EXECUTE FUNCTION tiles.on_point_row(%L, %L)',
        'tiles_' || p_layer, p_table, p_layer, p_id_column);
END $$;
"""


def upgrade() -> None:
    op.execute(GRID)
    op.execute(APPLY)
    op.execute(COMPILE)
    op.execute(HEAT)
    for layer, table in ATTACHED:
        op.execute(f"SELECT tiles.attach_point_layer('{layer}', '{table}', 'id')")


def downgrade() -> None:
    g005 = load_revision("g005_concurrent_tile_writes")
    op.execute("SELECT tiles.fold_heat(interval '0')")
    op.execute("DROP VIEW tiles.heat_cells")
    op.execute("DROP FUNCTION tiles.delta_cells(tiles.heat_delta)")
    op.execute("DROP TABLE tiles.heat_delta")
    op.execute(DOWN_HEAT_DELTA)
    fold = g005.HEAT.replace(
        "CREATE FUNCTION tiles.fold_heat", "CREATE OR REPLACE FUNCTION tiles.fold_heat"
    )
    op.execute(fold)
    for layer, table in ATTACHED:
        op.execute(f"DROP TRIGGER IF EXISTS tiles_{layer} ON {table}")
    rows = op.get_bind().exec_driver_sql("SELECT layer FROM tiles.point_layer").fetchall()
    for (layer,) in rows:
        op.execute(f"DROP FUNCTION IF EXISTS tiles.point_row_{_short(layer)}()")
        op.execute(f"DROP FUNCTION IF EXISTS tiles.point_row_{_short(layer)}_read(text)")
    op.execute(OLD_ATTACH)
    for layer, table in ATTACHED:
        op.execute(f"SELECT tiles.attach_point_layer('{layer}', '{table}', 'id')")
    op.execute("DROP FUNCTION tiles.compile_point_layer(text)")
    op.execute("DROP FUNCTION tiles.point_trigger_name(text)")
    op.execute("ALTER TABLE tiles.point_layer DROP COLUMN base_table, DROP COLUMN id_column")
    op.execute("DROP FUNCTION tiles.point_apply(text, text, tiles.heat_point, integer)")
    ranges = g005.KEYS[g005.KEYS.index("CREATE FUNCTION tiles.tile_ranges") :]
    op.execute(ranges.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
    put = g005.CACHE[g005.CACHE.index("CREATE OR REPLACE FUNCTION tiles.cache_put") :]
    op.execute(put)
    op.execute("DROP FUNCTION tiles.tile_margin(integer)")


def _short(layer: str) -> str:
    return hashlib.md5(layer.encode(), usedforsecurity=False).hexdigest()[:12]
