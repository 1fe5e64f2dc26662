-- The tile cache (tiles.tile_cache) and what keeps it exact under concurrent writers.
--
-- A writer takes shared advisory locks on the keys of exactly the tiles it invalidates
-- and appends its box to tiles.write_log. tiles.cache_put stores a tile only when it can
-- take that tile's key exclusively (no writer of the tile in flight) and no logged write
-- its render snapshot missed touches the tile. Shared locks never conflict, so writers
-- do not wait for each other; a put never waits. Layer-wide writes (territory edits,
-- rebuilds) lock the layer's key exclusively and log a box-less row, which every tile of
-- the layer meets. The log is pruned by tiles.fold_heat (heat.sql): rows older than the
-- previous fold's snapshot horizon go, and a put whose snapshot predates it is refused.
-- (Under intake load the former one-row-per-layer design made 15 of 16 writers wait.)

-- Delete the cached tiles of the layer whose buffered envelope meets the box, at every zoom.
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
CREATE OR REPLACE FUNCTION tiles.note_write(
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
