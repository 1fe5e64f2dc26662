"""tiles for concertations: contributions (points) and reference features (shapes)

Contributions join the heat grid and the tile cache through a row trigger on
`contribution` (votes and supports counters update that row, so a vote refreshes
the tiles too). Reference features (PLU zoning, perimeters...) are served like
the territories, simplified per zoom band, refreshed by statement triggers.

Writes got cheaper here: the heat grid and cache updates are one statement each
instead of one per level or zoom, a change of weight alone is one pass, and a
feature that did not move is invalidated once. The trigger functions run with
`jit = off`: PostGIS functions carry high cost
estimates, and JIT compilation added about a second to every small write.

Revision ID: g002
Revises: g001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "g002"
down_revision: str | None = "g001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "c001"


JIT_OFF = (
    "tiles.invalidate_box(text, double precision, double precision, double precision,"
    " double precision, integer)",
    "tiles.cache_put(text, integer, integer, integer, text, bytea, text, pg_snapshot)",
    "tiles.heat_add(text, double precision, double precision, text, text, integer,"
    " double precision)",
    "tiles.point_changed(text, text)",
    "tiles.on_point_row()",
    "tiles.rebuild_heat(text)",
    "tiles.refresh_polygons(text, text[])",
    "tiles.on_polygon_statement()",
)


# Compare ids in the view's own type, so that a refresh of a few rows uses the key's index.
REFRESH_POLYGONS = """
CREATE OR REPLACE FUNCTION tiles.refresh_polygons(p_layer text, ids text[]) RETURNS void
LANGUAGE plpgsql AS $$
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
    EXECUTE format(
        'INSERT INTO tiles.polygon_geom (layer, band, id, props, geom_3857)'
        ' SELECT %L, b.band, v.id::text, jsonb_build_object(%s), g.geom'
        ' FROM %s v CROSS JOIN tiles.band b'
        ' CROSS JOIN LATERAL (SELECT CASE WHEN b.simplify THEN ST_MakeValid(ST_Simplify('
        '     ST_Transform(v.geom, 3857), (ST_XMax(ST_TileEnvelope(b.maxzoom, 0, 0))'
        '     - ST_XMin(ST_TileEnvelope(b.maxzoom, 0, 0))) / 4096.0, false))'
        '   ELSE ST_Transform(v.geom, 3857) END AS geom) g'
        ' WHERE v.geom IS NOT NULL AND %s'
        '   AND g.geom IS NOT NULL AND NOT ST_IsEmpty(g.geom)',
        p_layer, props, cfg.source,
        CASE WHEN ids IS NULL THEN 'true' ELSE format('v.id = ANY($1::%s[])', cfg.id_type) END)
        USING ids;
END $$
"""


SET_BASED = [
    """
CREATE OR REPLACE FUNCTION tiles.invalidate_box(
    p_layer text, p_xmin double precision, p_ymin double precision,
    p_xmax double precision, p_ymax double precision, p_maxzoom integer
) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    deleted integer;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM tiles.tile_cache WHERE layer = p_layer) THEN
        RETURN 0;  -- nothing cached for the layer (bulk loads): skip the ranges
    END IF;
    DELETE FROM tiles.tile_cache c
    USING (
        SELECT zz, tiles.tile_x(p_xmin - m, zz) AS x0, tiles.tile_x(p_xmax + m, zz) AS x1,
               tiles.tile_y(p_ymax + m, zz) AS y0, tiles.tile_y(p_ymin - m, zz) AS y1
        FROM generate_series(0, p_maxzoom) AS zz,
             LATERAL (SELECT (ST_XMax(ST_TileEnvelope(zz, 0, 0))
                              - ST_XMin(ST_TileEnvelope(zz, 0, 0))) * tiles.buffer_ratio() AS m) b
    ) r
    WHERE c.layer = p_layer AND c.z = r.zz
      AND c.x BETWEEN r.x0 AND r.x1 AND c.y BETWEEN r.y0 AND r.y1;
    GET DIAGNOSTICS deleted = ROW_COUNT;
    RETURN deleted;
END $$
""",
    """
CREATE OR REPLACE FUNCTION tiles.heat_add(
    p_layer text, x double precision, y double precision,
    a text, b text, dn integer, dw double precision
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tiles.heat_cell AS h (layer, dim_a, level, cy, cx, dim_b, n, w)
    SELECT p_layer, d.a, lv, tiles.tile_y(y, lv), tiles.tile_x(x, lv), d.b, dn, dw
    FROM generate_series(tiles.heat_min_level(), tiles.heat_max_level()) AS lv
    CROSS JOIN (VALUES ('', ''), (a, b)) AS d(a, b)
    ON CONFLICT (layer, dim_a, level, cy, cx, dim_b)
        DO UPDATE SET n = h.n + EXCLUDED.n, w = h.w + EXCLUDED.w;
    IF dn < 0 THEN
        DELETE FROM tiles.heat_cell h
        USING generate_series(tiles.heat_min_level(), tiles.heat_max_level()) AS lv
        WHERE h.layer = p_layer AND h.dim_a IN ('', a) AND h.level = lv
          AND h.cy = tiles.tile_y(y, lv) AND h.cx = tiles.tile_x(x, lv) AND h.n <= 0;
    END IF;
END $$
""",
    """
CREATE OR REPLACE FUNCTION tiles.point_changed(p_layer text, fid text) RETURNS void
LANGUAGE plpgsql AS $$
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
    PERFORM tiles.touch_layer(p_layer);  -- first: see tiles.cache_put
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
        PERFORM tiles.invalidate_box(p_layer, cur.bxmin, cur.bymin, cur.bxmax, cur.bymax,
                                     cfg.maxzoom);
    ELSIF old.id IS NOT NULL THEN
        DELETE FROM tiles.heat_point WHERE layer = p_layer AND id = fid;
    END IF;
    IF old.id IS NOT NULL AND NOT (found_new AND old.bxmin = cur.bxmin AND old.bymin = cur.bymin
            AND old.bxmax = cur.bxmax AND old.bymax = cur.bymax) THEN
        PERFORM tiles.invalidate_box(p_layer, old.bxmin, old.bymin, old.bxmax, old.bymax,
                                     cfg.maxzoom);
    END IF;
END $$
""",
]


def upgrade() -> None:
    for statement in SET_BASED:
        op.execute(statement)
    op.execute("ALTER TABLE tiles.polygon_layer ADD COLUMN id_type text NOT NULL DEFAULT 'text'")
    op.execute(REFRESH_POLYGONS)
    for signature in JIT_OFF:
        op.execute(f"ALTER FUNCTION {signature} SET jit = off")
    op.execute(
        """INSERT INTO tiles.point_layer (layer, source, id_type, dim_a, dim_b, weight, maxzoom)
           VALUES ('contributions', 'public_layers.contributions', 'integer',
                   'concertation', 'theme', 'votes_for', 18)"""
    )
    op.execute("SELECT tiles.attach_point_layer('contributions', 'public.contribution', 'id')")
    op.execute("SELECT tiles.rebuild_heat('contributions')")
    op.execute(
        """INSERT INTO tiles.polygon_layer (layer, source, props, id_type)
           VALUES ('reference_features', 'public_layers.reference_features',
                   '{id,layer,concertation,layer_role,layer_color}', 'integer')"""
    )
    for event, refs in (
        ("INSERT", "NEW TABLE AS new_rows"),
        ("UPDATE", "NEW TABLE AS new_rows OLD TABLE AS old_rows"),
        ("DELETE", "OLD TABLE AS old_rows"),
    ):
        op.execute(
            f"CREATE TRIGGER tiles_reference_feature_{event.lower()} AFTER {event} "
            f"ON public.reference_feature REFERENCING {refs} FOR EACH STATEMENT "
            "EXECUTE FUNCTION tiles.on_polygon_statement('reference_features', 'id')"
        )
    op.execute("SELECT tiles.refresh_polygons('reference_features', NULL)")


def downgrade() -> None:
    for event in ("insert", "update", "delete"):
        op.execute(
            f"DROP TRIGGER IF EXISTS tiles_reference_feature_{event} ON public.reference_feature"
        )
    op.execute("DROP TRIGGER IF EXISTS tiles_contributions ON public.contribution")
    for table in ("tile_cache", "heat_cell", "heat_point", "heat_stats", "polygon_geom"):
        op.execute(
            f"DELETE FROM tiles.{table} WHERE layer IN ('contributions', 'reference_features')"
        )
    op.execute("DELETE FROM tiles.point_layer WHERE layer = 'contributions'")
    op.execute("DELETE FROM tiles.polygon_layer WHERE layer = 'reference_features'")
    for signature in JIT_OFF:
        op.execute(f"ALTER FUNCTION {signature} RESET jit")
    op.execute("ALTER TABLE tiles.polygon_layer DROP COLUMN id_type")
