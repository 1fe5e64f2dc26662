-- The heat grid: point counts per XYZ cell for levels @HEAT_MIN_LEVEL@..@HEAT_MAX_LEVEL@, per
-- (dim_a, dim_b) and in total (empty dims).
--
-- Writers append one row per point change to tiles.heat_delta (insert-only: no shared
-- row, no lock waited for, ~1 WAL record); readers read tiles.heat_cells (or, for a tile,
-- the pending points once: carto/tiles/sql.py), so counts are exact at once;
-- tiles.fold_heat moves the deltas into tiles.heat_cell about once a second.

-- The pending deltas as cells: per level, the total row and the dims row.
CREATE OR REPLACE FUNCTION tiles.delta_cells(d tiles.heat_delta)
RETURNS TABLE (dim_a text, level smallint, cy integer, cx integer, dim_b text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT k.a, lv::smallint, tiles.tile_y(d.y, lv), tiles.tile_x(d.x, lv), k.b
    FROM generate_series(tiles.heat_min_level(), tiles.heat_max_level()) AS lv
    CROSS JOIN (VALUES ('', ''), (d.dim_a, d.dim_b)) AS k(a, b)
$$;

-- What readers sum: the folded grid and the deltas not folded yet.
CREATE OR REPLACE VIEW tiles.heat_cells AS
    SELECT layer, dim_a, level, cy, cx, dim_b, n, w FROM tiles.heat_cell
    UNION ALL
    SELECT d.layer, c.dim_a, c.level, c.cy, c.cx, c.dim_b, d.n, d.w
    FROM tiles.heat_delta d, tiles.delta_cells(d) c;

-- One feature's contribution (+1, -1, or a change of weight) as one pending delta.
CREATE OR REPLACE FUNCTION tiles.heat_add(
    p_layer text, x double precision, y double precision,
    a text, b text, dn integer, dw double precision
) RETURNS void LANGUAGE sql AS $$
    INSERT INTO tiles.heat_delta (layer, x, y, dim_a, dim_b, n, w)
    VALUES (p_layer, x, y, a, b, dn, dw)
$$;

-- Fold the pending deltas into the grid and prune the write log; rows handled.
-- One folder at a time (the others return 0 at once); writers never wait for it.
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

-- Whether the layer's grid (with its pending deltas) counts the points tiles.heat_point
-- holds, per pair of dims: the premise of an incremental rebuild. A cheap check (one pass
-- over tiles.heat_point, the coarsest level of the grid): it catches lost, foreign and
-- re-labelled points, not a point moved within a coarsest cell (p_full repairs that).
CREATE OR REPLACE FUNCTION tiles.heat_agrees(p_layer text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT NOT EXISTS (
        SELECT 1
        FROM (SELECT dim_a, dim_b, count(*) AS n, sum(w) AS w
              FROM tiles.heat_point WHERE layer = p_layer GROUP BY dim_a, dim_b) p
        FULL JOIN (
            SELECT dim_a, dim_b, sum(n) AS n, sum(w) AS w FROM (
                SELECT dim_a, dim_b, n, w FROM tiles.heat_cell
                WHERE layer = p_layer AND level = tiles.heat_min_level() AND dim_b <> ''
                UNION ALL
                SELECT dim_a, dim_b, n, w FROM tiles.heat_delta WHERE layer = p_layer) c
            GROUP BY dim_a, dim_b) g USING (dim_a, dim_b)
        WHERE coalesce(p.n, 0) <> coalesce(g.n, 0)
           OR abs(coalesce(p.w, 0) - coalesce(g.w, 0)) > 1e-6 * (1 + abs(coalesce(p.w, 0))))
$$;

-- Bring a point layer's heat grid in line with its view in bulk (initial load, bulk
-- imports, re-imports), set-based. The view is read once and compared with
-- tiles.heat_point (one hash join); the rows that differ are what the row triggers would
-- have written. When they are few (at most one point in @INCREMENTAL_SHARE@) and the
-- grid agrees with tiles.heat_point (tiles.heat_agrees), they go through the write path
-- (tiles.heat_delta, folded at once): a re-import that changed a few points of 10 M, or a
-- rebuild right after a restore, costs the comparison, not the grid (bench/heat_rebuild.py).
-- Otherwise, or with p_full, the grid is recomputed from tiles.heat_point: the finest level
-- is one aggregate of it and each coarser level one aggregate of the level below, on
-- integer keys (the dims as ranks in the key's "C" order, '' for the totals first), so that
-- no hash nor sort compares text; the levels are merged in key order into a fresh unindexed
-- table that is indexed once and swapped in as the layer's partition of tiles.heat_cell.
-- Writers are held off (SHARE on the delta table) so that no delta is both folded in and
-- left pending. In the format() strings, '''' is one quote in the generated SQL.
CREATE OR REPLACE FUNCTION tiles.rebuild_heat(p_layer text, p_full boolean) RETURNS bigint
-- enable_nestloop off: the comparison below is a hash join; with stale statistics (a
-- layer just emptied) the planner took a nested loop over heat_point per view row.
LANGUAGE plpgsql SET jit = off SET work_mem = '1GB' SET maintenance_work_mem = '1GB'
SET enable_nestloop = off AS $$
DECLARE
    cfg tiles.point_layer;
    lv integer;
    total bigint;
    changed bigint;
    incremental boolean;
    fresh text;
    da text[];
    db text[];
    parts text[];
    part text := 'heat_cell_' || substr(md5(p_layer), 1, 12);
BEGIN
    SELECT * INTO STRICT cfg FROM tiles.point_layer WHERE layer = p_layer;
    LOCK TABLE tiles.heat_delta IN SHARE MODE;
    PERFORM tiles.touch_layer(p_layer);
    fresh := format(
        'SELECT id::text AS id, ST_X(p) AS x, ST_Y(p) AS y,'
        ' ST_XMin(b) AS bxmin, ST_YMin(b) AS bymin, ST_XMax(b) AS bxmax, ST_YMax(b) AS bymax,'
        ' coalesce(nullif((%I)::text, ''''), ''-'') AS dim_a,'
        ' coalesce(nullif((%I)::text, ''''), ''-'') AS dim_b,'
        ' coalesce((%I)::double precision, 0) AS w'
        ' FROM (SELECT v.*, ST_PointOnSurface(v.geom_3857) AS p, v.geom_3857::box2d AS b'
        '       FROM %s v WHERE v.geom_3857 IS NOT NULL) s',
        cfg.dim_a, cfg.dim_b, cfg.weight, cfg.source);
    IF NOT EXISTS (SELECT 1 FROM tiles.heat_point WHERE layer = p_layer) THEN
        EXECUTE format(  -- a first build: no difference
            'INSERT INTO tiles.heat_point (layer, id, x, y, bxmin, bymin, bxmax, bymax,'
            ' dim_a, dim_b, w) SELECT %L, f.* FROM (%s) f ORDER BY f.id COLLATE "C"',
            p_layer, fresh);
        GET DIAGNOSTICS total = ROW_COUNT;
        -- Statistics now, not at autovacuum's next pass: the next rebuild plans on them
        -- (the bench saw a re-import right after a first build take minutes, not seconds).
        ANALYZE tiles.heat_point;
    ELSE
        incremental := NOT p_full AND to_regclass('tiles.' || part) IS NOT NULL
            AND tiles.heat_agrees(p_layer);
        -- tiles.heat_point follows the view by difference, one hash join of the view and
        -- the index (rewriting every row with its index upkeep cost most of a rebuild):
        -- what differs is also what the row triggers would have written as deltas.
        EXECUTE format(
            'CREATE TEMPORARY TABLE heat_diff ON COMMIT DROP AS'
            ' SELECT f.id AS n_id, f.x AS n_x, f.y AS n_y, f.bxmin AS n_bxmin,'
            '        f.bymin AS n_bymin, f.bxmax AS n_bxmax, f.bymax AS n_bymax,'
            '        f.dim_a AS n_dim_a, f.dim_b AS n_dim_b, f.w AS n_w,'
            '        h.id AS o_id, h.x AS o_x, h.y AS o_y, h.dim_a AS o_dim_a,'
            '        h.dim_b AS o_dim_b, h.w AS o_w'
            ' FROM (%s) f FULL JOIN ('
            '   SELECT id, x, y, bxmin, bymin, bxmax, bymax, dim_a, dim_b, w'
            '   FROM tiles.heat_point WHERE layer = %L) h ON h.id = f.id'
            ' WHERE h.id IS NULL OR f.id IS NULL'
            '    OR (f.x, f.y, f.bxmin, f.bymin, f.bxmax, f.bymax, f.dim_a, f.dim_b, f.w)'
            '    <> (h.x, h.y, h.bxmin, h.bymin, h.bxmax, h.bymax, h.dim_a, h.dim_b, h.w)',
            fresh, p_layer);
        GET DIAGNOSTICS changed = ROW_COUNT;
        -- The ids as one array, not a join: right after a bulk load the statistics of
        -- tiles.heat_point may still say "empty" (a nested loop of full scans, seen in the
        -- bench); `= ANY` is one index or hashed scan whatever they say.
        DELETE FROM tiles.heat_point
        WHERE layer = p_layer
          AND id = ANY (ARRAY(SELECT o_id FROM heat_diff WHERE o_id IS NOT NULL));
        INSERT INTO tiles.heat_point (layer, id, x, y, bxmin, bymin, bxmax, bymax, dim_a, dim_b, w)
        SELECT p_layer, n_id, n_x, n_y, n_bxmin, n_bymin, n_bxmax, n_bymax, n_dim_a, n_dim_b, n_w
        FROM heat_diff WHERE n_id IS NOT NULL ORDER BY n_id COLLATE "C";
        SELECT count(*) INTO total FROM tiles.heat_point WHERE layer = p_layer;
        IF incremental AND changed <= total / @INCREMENTAL_SHARE@ THEN
            IF changed > 0 THEN
                INSERT INTO tiles.heat_delta (layer, x, y, dim_a, dim_b, n, w)
                SELECT p_layer, o_x, o_y, o_dim_a, o_dim_b, -1, -o_w
                FROM heat_diff WHERE o_id IS NOT NULL
                UNION ALL
                SELECT p_layer, n_x, n_y, n_dim_a, n_dim_b, 1, n_w
                FROM heat_diff WHERE n_id IS NOT NULL;
                DELETE FROM tiles.heat_stats WHERE layer = p_layer;
                DELETE FROM tiles.tile_cache WHERE layer = p_layer;
                INSERT INTO tiles.layer_state AS l (layer, changed_at) VALUES (p_layer, now())
                ON CONFLICT (layer) DO UPDATE SET changed_at = EXCLUDED.changed_at;
                PERFORM tiles.fold_heat();  -- or the worker's next fold, if it holds the lock
            END IF;
            DROP TABLE heat_diff;
            RETURN total;
        END IF;
        DROP TABLE heat_diff;
    END IF;
    DELETE FROM tiles.heat_delta WHERE layer = p_layer;
    DELETE FROM tiles.heat_cell_default WHERE layer = p_layer;
    DELETE FROM tiles.heat_stats WHERE layer = p_layer;
    -- Dims as ranks in the key's "C" order, '' (the totals) first: integer keys hash and
    -- sort several times faster than text, and sorting ranks sorts the text.
    SELECT array_agg(d ORDER BY d COLLATE "C") INTO da
    FROM (SELECT DISTINCT dim_a AS d FROM tiles.heat_point WHERE layer = p_layer
          UNION SELECT '') s;
    SELECT array_agg(d ORDER BY d COLLATE "C") INTO db
    FROM (SELECT DISTINCT dim_b AS d FROM tiles.heat_point WHERE layer = p_layer
          UNION SELECT '') s;
    CREATE TEMPORARY TABLE heat_level_@HEAT_MAX_LEVEL@ ON COMMIT DROP AS
    SELECT coalesce(a, 1) AS a, tiles.heat_max_level()::smallint AS level, cy, cx,
           coalesce(b, 1) AS b, count(*)::integer AS n, sum(w) AS w
    FROM (SELECT array_position(da, dim_a) AS a, array_position(db, dim_b) AS b, w,
                 tiles.tile_x(x, tiles.heat_max_level()) AS cx,
                 tiles.tile_y(y, tiles.heat_max_level()) AS cy
          FROM tiles.heat_point WHERE layer = p_layer) p
    GROUP BY GROUPING SETS ((a, cy, cx, b), (cy, cx));
    parts := ARRAY['SELECT * FROM heat_level_' || tiles.heat_max_level()];
    FOR lv IN REVERSE tiles.heat_max_level() - 1..tiles.heat_min_level() LOOP
        EXECUTE format(
            'CREATE TEMPORARY TABLE %I ON COMMIT DROP AS'
            ' SELECT a, %s::smallint AS level, cy >> 1 AS cy, cx >> 1 AS cx, b,'
            '        sum(n)::integer AS n, sum(w) AS w'
            ' FROM %I GROUP BY a, cy >> 1, cx >> 1, b',
            'heat_level_' || lv, lv, 'heat_level_' || (lv + 1));
        parts := parts || ('SELECT * FROM heat_level_' || lv);
    END LOOP;
    EXECUTE format('DROP TABLE IF EXISTS tiles.%I', part || '_new');
    EXECUTE format('CREATE TABLE tiles.%I (LIKE tiles.heat_cell)', part || '_new');
    -- In key order, so that the primary key is built on sorted rows. The key packed in one
    -- bigint (rank a | level | cy | cx | rank b: 11 + 5 + 2 x 18 + 11 bits) sorts with
    -- PostgreSQL's integer sort, several times faster than comparing five columns; with
    -- 2,048 values of a dim or more (or levels past 18), the five columns.
    EXECUTE format(
        'INSERT INTO tiles.%I (layer, dim_a, level, cy, cx, dim_b, n, w)'
        ' SELECT $1, $2[a], level, cy, cx, $3[b], n, w FROM (%s) s'
        ' ORDER BY %s', part || '_new', array_to_string(parts, ' UNION ALL '),
        CASE WHEN greatest(cardinality(da), cardinality(db)) < 2048 AND tiles.heat_max_level() <= 18
             THEN '(a::bigint << 52) | (level::bigint << 47) | (cy::bigint << 29)'
                  ' | (cx::bigint << 11) | b'
             ELSE 'a, level, cy, cx, b' END)
        USING p_layer, da, db;
    FOR lv IN tiles.heat_min_level()..tiles.heat_max_level() LOOP
        EXECUTE format('DROP TABLE %I', 'heat_level_' || lv);  -- a migration rebuilds twice
    END LOOP;
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
    EXECUTE format('ANALYZE tiles.%I', part);  -- a fresh table has no statistics
    EXECUTE format('ALTER TABLE tiles.heat_cell ATTACH PARTITION tiles.%I FOR VALUES IN (%L)',
                   part, p_layer);
    DELETE FROM tiles.tile_cache WHERE layer = p_layer;
    INSERT INTO tiles.layer_state AS l (layer, changed_at) VALUES (p_layer, now())
    ON CONFLICT (layer) DO UPDATE SET changed_at = EXCLUDED.changed_at;
    RETURN total;
END $$;

-- The rebuild bulk loads call: incremental when it can be.
CREATE OR REPLACE FUNCTION tiles.rebuild_heat(p_layer text) RETURNS bigint
LANGUAGE sql AS $$ SELECT tiles.rebuild_heat(p_layer, false) $$;
