"""tiles: concurrent writers no longer wait for each other (heat deltas, per-tile write log)

Profiled under intake load (bench/intake.py, 32 clients, one worker): every
signalement insert upserted the layer's one `tiles.layer_state` row (touch_layer)
and the few low-level `tiles.heat_cell` rows its point falls in, and held those row
locks until commit. 15 of 16 busy backends waited on `Lock/transactionid`; the
INSERT took 550 ms on average, 549 ms of it waiting for the layer row.

- Heat grid: writers append their +1/-1 to `tiles.heat_delta` (insert-only, no row
  is shared, no lock is waited for). Readers read `tiles.heat_cells`, the folded
  grid plus the pending deltas, and sum by cell as they always did: counts are
  exact at once. `tiles.fold_heat()` moves the deltas into `tiles.heat_cell`
  (one folder at a time; the outbox worker's loop calls it every second or so) and
  bumps `tiles.layer_state.changed_at`, which only the fold and rebuilds write now.
- Tile cache: a writer takes shared advisory locks on the keys of exactly the tiles
  it invalidates and appends its box to `tiles.write_log`. `tiles.cache_put` stores
  a tile only when it can take that tile's key exclusively (no writer of the tile in
  flight) and no logged write its render snapshot missed touches the tile. Shared
  locks never conflict, so writers do not wait for each other; a put never waits.
  Layer-wide writes (territory edits, rebuilds) lock the layer's key exclusively
  and log a box-less row, which every tile of the layer meets.
- `tiles.write_log` is pruned by the fold: rows older than the previous fold's
  snapshot horizon go, and a put whose snapshot predates that horizon is refused.

Revision ID: g005
Revises: g004
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

from carto.migrations.revisions import load_revision

revision: str = "g005"
down_revision: str | None = "g004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = """
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
-- Cells a fold left empty, found without scanning the grid.
CREATE INDEX heat_cell_empty ON tiles.heat_cell (layer) WHERE n <= 0;

-- What readers sum: the folded grid and the deltas not folded yet.
CREATE VIEW tiles.heat_cells AS
    SELECT layer, dim_a, level, cy, cx, dim_b, n, w FROM tiles.heat_cell
    UNION ALL
    SELECT layer, dim_a, level, cy, cx, dim_b, n, w FROM tiles.heat_delta;

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
"""

KEYS = """
CREATE FUNCTION tiles.tile_key(p_layer text, z integer, x integer, y integer) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT hashtextextended(p_layer || '/' || z || '/' || x || '/' || y, 0)
$$;

CREATE FUNCTION tiles.layer_key(p_layer text) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT hashtextextended(p_layer || '/*', 0) $$;

-- The tile ranges, per zoom, whose buffered envelope meets a box (EPSG:3857).
CREATE FUNCTION tiles.tile_ranges(
    p_xmin double precision, p_ymin double precision,
    p_xmax double precision, p_ymax double precision, p_maxzoom integer
) RETURNS TABLE (zz integer, x0 integer, x1 integer, y0 integer, y1 integer)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT zz, tiles.tile_x(p_xmin - m, zz), tiles.tile_x(p_xmax + m, zz),
           tiles.tile_y(p_ymax + m, zz), tiles.tile_y(p_ymin - m, zz)
    FROM generate_series(0, p_maxzoom) AS zz,
         LATERAL (SELECT (ST_XMax(ST_TileEnvelope(zz, 0, 0))
                          - ST_XMin(ST_TileEnvelope(zz, 0, 0))) * tiles.buffer_ratio() AS m) b
$$;
"""

CACHE = """
CREATE OR REPLACE FUNCTION tiles.invalidate_box(
    p_layer text, p_xmin double precision, p_ymin double precision,
    p_xmax double precision, p_ymax double precision, p_maxzoom integer
) RETURNS integer LANGUAGE plpgsql SET jit = off AS $$
DECLARE
    deleted integer;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM tiles.tile_cache WHERE layer = p_layer) THEN
        RETURN 0;  -- nothing cached for the layer (bulk loads): skip the ranges
    END IF;
    DELETE FROM tiles.tile_cache c
    USING tiles.tile_ranges(p_xmin, p_ymin, p_xmax, p_ymax, p_maxzoom) r
    WHERE c.layer = p_layer AND c.z = r.zz
      AND c.x BETWEEN r.x0 AND r.x1 AND c.y BETWEEN r.y0 AND r.y1;
    GET DIAGNOSTICS deleted = ROW_COUNT;
    RETURN deleted;
END $$;

-- A write of a feature whose box is given: lock the keys of the tiles it changes (shared:
-- writers never wait for each other), log it for renders that missed it, drop the tiles.
CREATE FUNCTION tiles.note_write(
    p_layer text, p_xmin double precision, p_ymin double precision,
    p_xmax double precision, p_ymax double precision, p_maxzoom integer
) RETURNS integer LANGUAGE plpgsql SET jit = off AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(tiles.tile_key(p_layer, r.zz, tx, ty))
    FROM tiles.tile_ranges(p_xmin, p_ymin, p_xmax, p_ymax, p_maxzoom) r,
         generate_series(r.x0, r.x1) AS tx, generate_series(r.y0, r.y1) AS ty;
    INSERT INTO tiles.write_log (layer, bxmin, bymin, bxmax, bymax)
    VALUES (p_layer, p_xmin, p_ymin, p_xmax, p_ymax);
    RETURN tiles.invalidate_box(p_layer, p_xmin, p_ymin, p_xmax, p_ymax, p_maxzoom);
END $$;

-- A write that may change any tile of the layer (territory edits, rebuilds).
CREATE OR REPLACE FUNCTION tiles.touch_layer(p_layer text) RETURNS void
LANGUAGE plpgsql SET jit = off AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(tiles.layer_key(p_layer));
    INSERT INTO tiles.write_log (layer) VALUES (p_layer);
END $$;

-- Store a rendered tile unless a write its snapshot missed (committed since, or still in
-- flight) touches it. Never waits: a tile that cannot be stored safely is just not stored.
CREATE OR REPLACE FUNCTION tiles.cache_put(
    p_layer text, p_z integer, p_x integer, p_y integer, p_variant text,
    p_body bytea, p_etag text, p_snapshot pg_snapshot
) RETURNS boolean LANGUAGE plpgsql SET jit = off AS $$
DECLARE
    own xid8 := pg_current_xact_id_if_assigned();
    m double precision := (ST_XMax(ST_TileEnvelope(p_z, 0, 0))
                           - ST_XMin(ST_TileEnvelope(p_z, 0, 0))) * tiles.buffer_ratio();
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

HEAT = """
CREATE OR REPLACE FUNCTION tiles.heat_add(
    p_layer text, x double precision, y double precision,
    a text, b text, dn integer, dw double precision
) RETURNS void LANGUAGE plpgsql SET jit = off AS $$
BEGIN
    INSERT INTO tiles.heat_delta (layer, dim_a, level, cy, cx, dim_b, n, w)
    SELECT p_layer, d.a, lv, tiles.tile_y(y, lv), tiles.tile_x(x, lv), d.b, dn, dw
    FROM generate_series(tiles.heat_min_level(), tiles.heat_max_level()) AS lv
    CROSS JOIN (VALUES ('', ''), (a, b)) AS d(a, b);
END $$;

-- Fold the pending deltas into the grid and prune the write log; rows handled.
-- One folder at a time (the others return 0 at once); writers never wait for it.
CREATE FUNCTION tiles.fold_heat(p_prune_every interval DEFAULT '2 seconds') RETURNS bigint
LANGUAGE plpgsql SET jit = off AS $$
DECLARE
    moved bigint;
    pruned xid8;
BEGIN
    IF NOT pg_try_advisory_xact_lock(tiles.layer_key('tiles.fold_heat')) THEN
        RETURN 0;
    END IF;
    WITH d AS (DELETE FROM tiles.heat_delta RETURNING *),
    s AS (
        SELECT layer, dim_a, level, cy, cx, dim_b, sum(n)::integer AS n, sum(w) AS w,
               count(*) AS k
        FROM d GROUP BY layer, dim_a, level, cy, cx, dim_b),
    up AS (
        INSERT INTO tiles.heat_cell AS h (layer, dim_a, level, cy, cx, dim_b, n, w)
        SELECT layer, dim_a, level, cy, cx, dim_b, n, w FROM s
        ON CONFLICT (layer, dim_a, level, cy, cx, dim_b)
            DO UPDATE SET n = h.n + EXCLUDED.n, w = h.w + EXCLUDED.w),
    ls AS (
        INSERT INTO tiles.layer_state AS l (layer, changed_at)
        SELECT DISTINCT layer, now() FROM s
        ON CONFLICT (layer) DO UPDATE SET changed_at = EXCLUDED.changed_at)
    SELECT coalesce(sum(k), 0) INTO moved FROM s;
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

# As in g002, with the layer-wide touch gone: the per-tile note_write does its work.
POINT_CHANGED = """
CREATE OR REPLACE FUNCTION tiles.point_changed(p_layer text, fid text) RETURNS void
LANGUAGE plpgsql SET jit = off AS $$
DECLARE
    cfg tiles.point_layer;
    old tiles.heat_point;
    cur tiles.heat_point;
    found_new boolean;
    same_place boolean;
BEGIN
    SELECT * INTO cfg FROM tiles.point_layer WHERE layer = p_layer;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT * INTO old FROM tiles.heat_point WHERE layer = p_layer AND id = fid;
    EXECUTE format(
        'SELECT %L, $1, ST_X(p), ST_Y(p), ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b),'
        ' coalesce(nullif((%I)::text, ''''), ''-''), coalesce(nullif((%I)::text, ''''), ''-''),'
        ' coalesce((%I)::double precision, 0)'
        ' FROM (SELECT v.*, ST_PointOnSurface(v.geom_3857) AS p, v.geom_3857::box2d AS b'
        '       FROM %s v WHERE v.id = $1::%s AND v.geom_3857 IS NOT NULL) s',
        p_layer, cfg.dim_a, cfg.dim_b, cfg.weight, cfg.source, cfg.id_type)
        INTO cur USING fid;
    found_new := cur.id IS NOT NULL;
    same_place := old.id IS NOT NULL AND found_new AND old.x = cur.x AND old.y = cur.y
        AND old.dim_a = cur.dim_a AND old.dim_b = cur.dim_b;
    IF same_place THEN
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
        PERFORM tiles.note_write(p_layer, cur.bxmin, cur.bymin, cur.bxmax, cur.bymax,
                                 cfg.maxzoom);
    ELSIF old.id IS NOT NULL THEN
        DELETE FROM tiles.heat_point WHERE layer = p_layer AND id = fid;
    END IF;
    IF old.id IS NOT NULL AND NOT (found_new AND old.bxmin = cur.bxmin AND old.bymin = cur.bymin
            AND old.bxmax = cur.bxmax AND old.bymax = cur.bymax) THEN
        PERFORM tiles.note_write(p_layer, old.bxmin, old.bymin, old.bxmax, old.bymax,
                                 cfg.maxzoom);
    END IF;
END $$;
"""

# As in g003, plus: writers are held off for the rebuild (SHARE on the delta table) so
# that no delta is both folded into the rebuilt grid and left pending.
REBUILD = r"""
CREATE OR REPLACE FUNCTION tiles.rebuild_heat(p_layer text) RETURNS bigint
LANGUAGE plpgsql SET jit = off AS $$
DECLARE
    cfg tiles.point_layer;
    lv integer;
    total bigint;
    part text := 'heat_cell_' || substr(md5(p_layer), 1, 12);
BEGIN
    SELECT * INTO STRICT cfg FROM tiles.point_layer WHERE layer = p_layer;
    LOCK TABLE tiles.heat_delta IN SHARE MODE;
    PERFORM tiles.touch_layer(p_layer);
    DELETE FROM tiles.heat_delta WHERE layer = p_layer;
    DELETE FROM tiles.heat_cell_default WHERE layer = p_layer;
    DELETE FROM tiles.heat_point WHERE layer = p_layer;
    DELETE FROM tiles.heat_stats WHERE layer = p_layer;
    EXECUTE format(
        'INSERT INTO tiles.heat_point SELECT * FROM ('
        ' SELECT %L, id::text, ST_X(p), ST_Y(p), ST_XMin(b),'
        ' ST_YMin(b), ST_XMax(b), ST_YMax(b), coalesce(nullif((%I)::text, ''''), ''-''),'
        ' coalesce(nullif((%I)::text, ''''), ''-''), coalesce((%I)::double precision, 0)'
        ' FROM (SELECT v.*, ST_PointOnSurface(v.geom_3857) AS p, v.geom_3857::box2d AS b'
        '       FROM %s v WHERE v.geom_3857 IS NOT NULL) s) r ORDER BY 2',
        p_layer, cfg.dim_a, cfg.dim_b, cfg.weight, cfg.source);
    GET DIAGNOSTICS total = ROW_COUNT;
    CREATE TEMPORARY TABLE heat_level ON COMMIT DROP AS
    SELECT dim_a, tiles.heat_max_level()::smallint AS level, cy, cx, dim_b,
           count(*)::integer AS n, sum(w) AS w
    FROM (SELECT dim_a, dim_b, w, tiles.tile_x(x, tiles.heat_max_level()) AS cx,
                 tiles.tile_y(y, tiles.heat_max_level()) AS cy
          FROM tiles.heat_point WHERE layer = p_layer) p
    GROUP BY dim_a, cy, cx, dim_b;
    CREATE TEMPORARY TABLE heat_stage ON COMMIT DROP AS SELECT * FROM heat_level;
    FOR lv IN REVERSE tiles.heat_max_level() - 1..tiles.heat_min_level() LOOP
        CREATE TEMPORARY TABLE heat_next ON COMMIT DROP AS
        SELECT dim_a, lv::smallint AS level, cy / 2 AS cy, cx / 2 AS cx, dim_b,
               sum(n)::integer AS n, sum(w) AS w
        FROM heat_level GROUP BY dim_a, cy / 2, cx / 2, dim_b;
        DROP TABLE heat_level;
        ALTER TABLE heat_next RENAME TO heat_level;
        INSERT INTO heat_stage SELECT * FROM heat_level;
    END LOOP;
    EXECUTE format('DROP TABLE IF EXISTS tiles.%I', part || '_new');
    EXECUTE format('CREATE TABLE tiles.%I (LIKE tiles.heat_cell)', part || '_new');
    EXECUTE format(
        'INSERT INTO tiles.%I (layer, dim_a, level, cy, cx, dim_b, n, w)'
        ' SELECT $1, dim_a, level, cy, cx, dim_b, n, w FROM ('
        '   SELECT dim_a, level, cy, cx, dim_b, n, w FROM heat_stage'
        '   UNION ALL'
        '   SELECT '''', level, cy, cx, '''', sum(n), sum(w) FROM heat_stage'
        '   GROUP BY level, cy, cx) s ORDER BY dim_a COLLATE "C", level, cy, cx, dim_b COLLATE "C"',
        part || '_new') USING p_layer;
    DROP TABLE heat_stage;
    DROP TABLE heat_level;
    EXECUTE format('ALTER TABLE tiles.%I ADD CHECK (layer = %L)', part || '_new', p_layer);
    EXECUTE format('ALTER TABLE tiles.%I ADD PRIMARY KEY (layer, dim_a, level, cy, cx, dim_b)',
                   part || '_new');
    EXECUTE format('CREATE INDEX ON tiles.%I (layer, dim_b, level, cy, cx) WHERE dim_b <> ''''',
                   part || '_new');
    EXECUTE format('CREATE INDEX ON tiles.%I (layer) WHERE n <= 0', part || '_new');
    IF to_regclass('tiles.' || part) IS NOT NULL THEN
        EXECUTE format('ALTER TABLE tiles.heat_cell DETACH PARTITION tiles.%I', part);
        EXECUTE format('DROP TABLE tiles.%I', part);
    END IF;
    EXECUTE format('ALTER TABLE tiles.%I RENAME TO %I', part || '_new', part);
    EXECUTE format('ALTER TABLE tiles.heat_cell ATTACH PARTITION tiles.%I FOR VALUES IN (%L)',
                   part, p_layer);
    DELETE FROM tiles.tile_cache WHERE layer = p_layer;
    INSERT INTO tiles.layer_state AS l (layer, changed_at) VALUES (p_layer, now())
    ON CONFLICT (layer) DO UPDATE SET changed_at = EXCLUDED.changed_at;
    RETURN total;
END $$
"""

OLD_TOUCH = """
CREATE OR REPLACE FUNCTION tiles.touch_layer(p_layer text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tiles.layer_state (layer, last_xid, changed_at)
    VALUES (p_layer, pg_current_xact_id(), now())
    ON CONFLICT (layer) DO UPDATE
        SET last_xid = EXCLUDED.last_xid, changed_at = EXCLUDED.changed_at;
END $$
"""


def upgrade() -> None:
    op.execute(TABLES)
    op.execute(KEYS)
    op.execute(CACHE)
    op.execute(HEAT)
    op.execute(POINT_CHANGED)
    op.execute(REBUILD)


def downgrade() -> None:
    op.execute("SELECT tiles.fold_heat(interval '0')")
    g001, g002 = load_revision("g001_tiles"), load_revision("g002_contribution_tiles")
    op.execute(OLD_TOUCH)
    cache_put = g001.CACHE[g001.CACHE.index("CREATE FUNCTION tiles.cache_put") :]
    op.execute(cache_put.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
    for statement in g002.SET_BASED:
        op.execute(statement)
    op.execute(load_revision("g003_bulk_heat_rebuild").REBUILD)
    for signature in g002.JIT_OFF:
        op.execute(f"ALTER FUNCTION {signature} SET jit = off")
    op.execute("DROP FUNCTION tiles.fold_heat(interval)")
    op.execute(
        "DROP FUNCTION tiles.note_write(text, double precision, double precision,"
        " double precision, double precision, integer)"
    )
    op.execute("DROP FUNCTION tiles.tile_ranges(double precision, double precision,"
               " double precision, double precision, integer)")  # fmt: skip
    op.execute("DROP FUNCTION tiles.tile_key(text, integer, integer, integer)")
    op.execute("DROP FUNCTION tiles.layer_key(text)")
    op.execute("DROP VIEW tiles.heat_cells")
    op.execute("DROP TABLE tiles.heat_delta, tiles.write_log, tiles.log_horizon")
    op.execute("DROP INDEX tiles.heat_cell_empty")
