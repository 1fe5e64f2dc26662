-- The heat-grid rebuild before the set-based one (carto/tiles/sql/heat.sql at 0cb16e8),
-- installed under another name as the baseline of bench/heat_rebuild.py.
-- Recompute a point layer's heat grid from its view in bulk (initial load, bulk imports).
-- Each level is summed from the one below it in temporary tables, into a fresh unindexed
-- table that is indexed once and swapped in as the layer's partition of tiles.heat_cell
-- (row-by-row index upkeep cost minutes for a million points). Writers are held off
-- (SHARE on the delta table) so that no delta is both folded in and left pending.
-- In the format() strings, '''' is one quote in the generated SQL.
CREATE OR REPLACE FUNCTION tiles.rebuild_heat_baseline(p_layer text) RETURNS bigint
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
END $$;
