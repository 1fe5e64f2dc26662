-- The tile layers of carto/tiles/layers.py as rows of tiles.point_layer and
-- tiles.polygon_layer, with the triggers on their tables. @POINT_LAYERS@ and
-- @POLYGON_LAYERS@ are those rows, filled in from that module (carto/tiles/schema.py).
-- Applying this again changes nothing; after a change of a layer's dims, weight or
-- source, the revision that applies it also runs tiles.rebuild_heat or
-- tiles.refresh_polygons for that layer.
DO $$
DECLARE
    l record;
    e record;
BEGIN
    FOR l IN SELECT * FROM (VALUES @POINT_LAYERS@) AS v(layer, source, id_type, dim_a, dim_b,
                                                         weight, maxzoom, tbl, key, stored)
    LOOP
        INSERT INTO tiles.point_layer (layer, source, id_type, dim_a, dim_b, weight, maxzoom)
        VALUES (l.layer, l.source, l.id_type, l.dim_a, l.dim_b, l.weight, l.maxzoom)
        ON CONFLICT (layer) DO UPDATE SET source = EXCLUDED.source, id_type = EXCLUDED.id_type,
            dim_a = EXCLUDED.dim_a, dim_b = EXCLUDED.dim_b, weight = EXCLUDED.weight,
            maxzoom = EXCLUDED.maxzoom;
        PERFORM tiles.attach_point_layer(l.layer, l.tbl::regclass, l.key);
        IF l.stored THEN
            PERFORM tiles.index_point_layer(l.layer);
        END IF;
    END LOOP;
    FOR l IN SELECT * FROM (VALUES @POLYGON_LAYERS@) AS v(layer, source, props, id_type,
                                                           maxzoom, tbl, key)
    LOOP
        INSERT INTO tiles.polygon_layer (layer, source, props, id_type, maxzoom)
        VALUES (l.layer, l.source, l.props, l.id_type, l.maxzoom)
        ON CONFLICT (layer) DO UPDATE SET source = EXCLUDED.source, props = EXCLUDED.props,
            id_type = EXCLUDED.id_type, maxzoom = EXCLUDED.maxzoom;
        FOR e IN SELECT * FROM (VALUES ('insert', 'NEW TABLE AS new_rows'),
                                       ('update', 'NEW TABLE AS new_rows OLD TABLE AS old_rows'),
                                       ('delete', 'OLD TABLE AS old_rows')) AS v(event, refs)
        LOOP
            EXECUTE format(
                'CREATE OR REPLACE TRIGGER %I AFTER %s ON %s REFERENCING %s FOR EACH STATEMENT'
                ' EXECUTE FUNCTION tiles.on_polygon_statement(%L, %L)',
                'tiles_' || split_part(l.tbl, '.', 2) || '_' || e.event, upper(e.event), l.tbl,
                e.refs, l.layer, l.key);
        END LOOP;
    END LOOP;
END $$;
