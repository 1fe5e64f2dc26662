-- Polygon layers (rows of tiles.polygon_layer): copies in EPSG:3857 simplified per zoom
-- band (tiles.band), kept by statement triggers on the layers' tables. The trigger
-- functions run with jit = off: PostGIS functions carry high cost estimates, and JIT
-- compilation added about a second to every small write.

-- Rebuild the simplified geometries of a polygon layer for `ids` (all when NULL).
-- Band tolerance: one MVT unit at the band's highest zoom. Ids are compared in the
-- view's own type, so that a refresh of a few rows uses the key's index.
CREATE OR REPLACE FUNCTION tiles.refresh_polygons(p_layer text, ids text[]) RETURNS void
LANGUAGE plpgsql SET jit = off AS $$
DECLARE
    cfg tiles.polygon_layer;
    props text;
BEGIN
    SELECT * INTO STRICT cfg FROM tiles.polygon_layer WHERE layer = p_layer;
    SELECT string_agg(format('%L, v.%I', p, p), ', ') INTO props FROM unnest(cfg.props) p;
    IF ids IS NULL THEN
        DELETE FROM tiles.polygon_geom WHERE layer = p_layer;
    ELSE
        DELETE FROM tiles.polygon_geom WHERE layer = p_layer AND band IN (0, 1, 2, 3)
            AND id = ANY(ids);
    END IF;
    -- OFFSET 0 keeps each subquery a fence: without them the planner inlines the
    -- geometry expression into the filter and the target list, and computed it three
    -- times per band, the projection once per band (the national import's ~7 s).
    EXECUTE format(
        'INSERT INTO tiles.polygon_geom (layer, band, id, props, geom_3857)'
        ' SELECT %L, b.band, v.id, v.props, g.geom'
        ' FROM (SELECT v.id::text AS id, jsonb_build_object(%s) AS props,'
        '              ST_Transform(v.geom, 3857) AS geom'
        '       FROM %s v WHERE v.geom IS NOT NULL AND %s OFFSET 0) v'
        ' CROSS JOIN tiles.band b'
        ' CROSS JOIN LATERAL (SELECT CASE WHEN b.simplify THEN ST_MakeValid(ST_Simplify('
        '     v.geom, (ST_XMax(ST_TileEnvelope(b.maxzoom, 0, 0))'
        '     - ST_XMin(ST_TileEnvelope(b.maxzoom, 0, 0))) / @EXTENT@, false))'
        '   ELSE v.geom END AS geom OFFSET 0) g'
        ' WHERE g.geom IS NOT NULL AND NOT ST_IsEmpty(g.geom)',
        p_layer, props, cfg.source,
        CASE WHEN ids IS NULL THEN 'true' ELSE format('v.id = ANY($1::%s[])', cfg.id_type) END)
        USING ids;
END $$;

-- Statement trigger on a polygon layer's table: TG_ARGV[0] the layer, TG_ARGV[1] the key
-- column (the triggers are created by layers.sql).
CREATE OR REPLACE FUNCTION tiles.on_polygon_statement() RETURNS trigger
LANGUAGE plpgsql SET jit = off AS $$
DECLARE
    p_layer text := TG_ARGV[0];
    col text := TG_ARGV[1];
    cfg tiles.polygon_layer;
    ids text[];
    boxes box2d[];
    bx box2d;
BEGIN
    SELECT * INTO cfg FROM tiles.polygon_layer WHERE layer = p_layer;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        EXECUTE format('SELECT array_agg(DISTINCT (to_jsonb(n) ->> %L)) FROM new_rows n', col)
            INTO ids;
    ELSIF TG_OP = 'UPDATE' THEN
        EXECUTE format('SELECT array_agg(DISTINCT k) FROM (SELECT to_jsonb(n) ->> %1$L k'
                       ' FROM new_rows n UNION SELECT to_jsonb(o) ->> %1$L FROM old_rows o) s',
                       col) INTO ids;
    ELSE
        EXECUTE format('SELECT array_agg(DISTINCT (to_jsonb(o) ->> %L)) FROM old_rows o', col)
            INTO ids;
    END IF;
    IF ids IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM tiles.touch_layer(p_layer);  -- first: see tiles.cache_put
    SELECT array_agg(geom_3857::box2d) INTO boxes FROM tiles.polygon_geom
    WHERE layer = p_layer AND band = 3 AND id = ANY(ids);
    PERFORM tiles.refresh_polygons(p_layer, ids);
    SELECT boxes || array_agg(geom_3857::box2d) INTO boxes FROM tiles.polygon_geom
    WHERE layer = p_layer AND band = 3 AND id = ANY(ids);
    IF coalesce(array_length(boxes, 1), 0) > 200 THEN
        DELETE FROM tiles.tile_cache WHERE layer = p_layer;  -- a bulk import: drop the layer
    ELSE
        FOREACH bx IN ARRAY coalesce(boxes, '{}') LOOP
            PERFORM tiles.invalidate_box(p_layer, ST_XMin(bx), ST_YMin(bx), ST_XMax(bx),
                                         ST_YMax(bx), cfg.maxzoom);
        END LOOP;
    END IF;
    RETURN NULL;
END $$;

-- A reference layer restyled or renamed: its features' tiles carry the layer's slug, role
-- and colour, so the features are touched and their own statement trigger refreshes them.
CREATE OR REPLACE FUNCTION tiles.on_reference_layer_row() RETURNS trigger
LANGUAGE plpgsql SET jit = off AS $$
BEGIN
    -- A no-op update of the layer's features: their statement trigger re-reads them
    -- from the public view (new style) and invalidates the tiles they are drawn on.
    UPDATE public.reference_feature SET layer_id = layer_id WHERE layer_id = NEW.id;
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER tiles_reference_layer_style AFTER UPDATE ON public.reference_layer
FOR EACH ROW WHEN (
    (OLD.slug, OLD.role, OLD.color, OLD.concertation_id)
    IS DISTINCT FROM (NEW.slug, NEW.role, NEW.color, NEW.concertation_id)
) EXECUTE FUNCTION tiles.on_reference_layer_row();
