"""tiles schema: hot-tile cache, heat count grid, simplified territory geometries

Everything the tile server precomputes lives in the `tiles` schema and is kept
current by triggers, so writers call nothing:

- `tile_cache`: rendered MVT tiles, deleted by the triggers for exactly the
  tiles whose buffered envelope holds a changed feature;
- `heat_cell`: point counts per XYZ cell for levels 5..18 (the heat and cluster
  grid, 32 cells per tile side), per (dim_a, dim_b) combination plus a total row
  with empty dims; `heat_point` remembers what each feature contributed so that
  updates and deletes subtract exactly that;
- `polygon_geom`: territory polygons in EPSG:3857, simplified per zoom band.

Point layers get their row triggers once their tables exist (see later
revisions of this branch); `tiles.attach_point_layer()` does it.

Revision ID: g001
Revises: l001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "g001"
down_revision: str | None = "l001"
branch_labels: str | Sequence[str] | None = ("tiles",)
depends_on: str | Sequence[str] | None = None

TABLES = """
CREATE SCHEMA IF NOT EXISTS tiles;

CREATE TABLE tiles.point_layer (
    layer text PRIMARY KEY,
    source text NOT NULL,
    id_type text NOT NULL DEFAULT 'bigint',
    dim_a text NOT NULL,
    dim_b text NOT NULL,
    weight text NOT NULL,
    maxzoom smallint NOT NULL DEFAULT 18
);

CREATE TABLE tiles.polygon_layer (
    layer text PRIMARY KEY,
    source text NOT NULL,
    props text[] NOT NULL,
    maxzoom smallint NOT NULL DEFAULT 18
);

CREATE TABLE tiles.band (
    band smallint PRIMARY KEY,
    minzoom smallint NOT NULL,
    maxzoom smallint NOT NULL,
    simplify boolean NOT NULL
);
INSERT INTO tiles.band VALUES (0, 0, 6, true), (1, 7, 9, true), (2, 10, 12, true), (3, 13, 30, false);

CREATE TABLE tiles.layer_state (
    layer text PRIMARY KEY,
    last_xid xid8,
    changed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tiles.tile_cache (
    layer text NOT NULL,
    z smallint NOT NULL,
    x integer NOT NULL,
    y integer NOT NULL,
    variant text NOT NULL,
    body bytea NOT NULL,
    etag text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (layer, z, x, y, variant)
);

CREATE TABLE tiles.heat_point (
    layer text NOT NULL,
    id text NOT NULL,
    x double precision NOT NULL,
    y double precision NOT NULL,
    bxmin double precision NOT NULL,
    bymin double precision NOT NULL,
    bxmax double precision NOT NULL,
    bymax double precision NOT NULL,
    dim_a text NOT NULL,
    dim_b text NOT NULL,
    w double precision NOT NULL,
    PRIMARY KEY (layer, id)
);

CREATE TABLE tiles.heat_cell (
    layer text NOT NULL,
    dim_a text NOT NULL,
    level smallint NOT NULL,
    cy integer NOT NULL,
    cx integer NOT NULL,
    dim_b text NOT NULL,
    n integer NOT NULL,
    w double precision NOT NULL,
    PRIMARY KEY (layer, dim_a, level, cy, cx, dim_b)
);
CREATE INDEX heat_cell_dim_b ON tiles.heat_cell (layer, dim_b, level, cy, cx)
    WHERE dim_b <> '';

CREATE TABLE tiles.heat_stats (
    layer text NOT NULL,
    variant text NOT NULL,
    level smallint NOT NULL,
    weighted boolean NOT NULL,
    p99 double precision NOT NULL,
    computed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (layer, variant, level, weighted)
);

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

# Tile arithmetic on EPSG:3857 coordinates: the grid is PostGIS's own ST_TileEnvelope.
GRID = """
CREATE FUNCTION tiles.tile_x(x double precision, z integer) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT least(greatest(floor((x - ST_XMin(ST_TileEnvelope(0, 0, 0)))
        / ((ST_XMax(ST_TileEnvelope(0, 0, 0)) - ST_XMin(ST_TileEnvelope(0, 0, 0))) / 2 ^ z)),
        0), 2 ^ z - 1)::integer
$$;

CREATE FUNCTION tiles.tile_y(y double precision, z integer) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT least(greatest(floor((ST_YMax(ST_TileEnvelope(0, 0, 0)) - y)
        / ((ST_YMax(ST_TileEnvelope(0, 0, 0)) - ST_YMin(ST_TileEnvelope(0, 0, 0))) / 2 ^ z)),
        0), 2 ^ z - 1)::integer
$$;

CREATE FUNCTION tiles.heat_min_level() RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT 5';
CREATE FUNCTION tiles.heat_max_level() RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT 18';
-- MVT buffer (64 of 4096 units) as a fraction of a tile side.
CREATE FUNCTION tiles.buffer_ratio() RETURNS double precision
    LANGUAGE sql IMMUTABLE AS 'SELECT 64.0 / 4096.0';
"""

CACHE = """
-- Delete the cached tiles of `p_layer` whose buffered envelope meets the box, at every zoom.
CREATE FUNCTION tiles.invalidate_box(
    p_layer text, p_xmin double precision, p_ymin double precision,
    p_xmax double precision, p_ymax double precision, p_maxzoom integer
) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    zz integer;
    m double precision;
    deleted integer := 0;
    k integer;
BEGIN
    FOR zz IN 0..p_maxzoom LOOP
        m := (ST_XMax(ST_TileEnvelope(zz, 0, 0)) - ST_XMin(ST_TileEnvelope(zz, 0, 0)))
             * tiles.buffer_ratio();
        DELETE FROM tiles.tile_cache c
        WHERE c.layer = p_layer AND c.z = zz
          AND c.x BETWEEN tiles.tile_x(p_xmin - m, zz) AND tiles.tile_x(p_xmax + m, zz)
          AND c.y BETWEEN tiles.tile_y(p_ymax + m, zz) AND tiles.tile_y(p_ymin - m, zz);
        GET DIAGNOSTICS k = ROW_COUNT;
        deleted := deleted + k;
    END LOOP;
    RETURN deleted;
END $$;

-- Record that a transaction wrote to the layer: a reader whose snapshot cannot see
-- that transaction does not store the tile it rendered (it may be stale).
CREATE FUNCTION tiles.touch_layer(p_layer text) RETURNS void LANGUAGE sql AS $$
    INSERT INTO tiles.layer_state (layer, last_xid, changed_at)
    VALUES (p_layer, pg_current_xact_id(), now())
    ON CONFLICT (layer) DO UPDATE
        SET last_xid = EXCLUDED.last_xid, changed_at = EXCLUDED.changed_at
$$;

-- Store a rendered tile unless a write the reader could not see touched the layer.
-- Writers lock the layer's row (touch_layer) before they delete cached tiles, and this
-- waits for that lock: a tile rendered before a write is never stored after it.
CREATE FUNCTION tiles.cache_put(
    p_layer text, p_z integer, p_x integer, p_y integer, p_variant text,
    p_body bytea, p_etag text, p_snapshot pg_snapshot
) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    last xid8;
BEGIN
    INSERT INTO tiles.layer_state (layer) VALUES (p_layer) ON CONFLICT (layer) DO NOTHING;
    SELECT last_xid INTO last FROM tiles.layer_state WHERE layer = p_layer FOR SHARE;
    IF last IS NOT NULL AND last IS DISTINCT FROM pg_current_xact_id_if_assigned()
       AND NOT pg_visible_in_snapshot(last, p_snapshot) THEN
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
-- Add (or with negative counts, remove) one feature's contribution at every heat level.
CREATE FUNCTION tiles.heat_add(
    p_layer text, x double precision, y double precision,
    a text, b text, dn integer, dw double precision
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    lv integer;
    cxx integer;
    cyy integer;
BEGIN
    FOR lv IN tiles.heat_min_level()..tiles.heat_max_level() LOOP
        cxx := tiles.tile_x(x, lv);
        cyy := tiles.tile_y(y, lv);
        INSERT INTO tiles.heat_cell AS h (layer, dim_a, level, cy, cx, dim_b, n, w)
        VALUES (p_layer, '', lv, cyy, cxx, '', dn, dw), (p_layer, a, lv, cyy, cxx, b, dn, dw)
        ON CONFLICT (layer, dim_a, level, cy, cx, dim_b)
            DO UPDATE SET n = h.n + EXCLUDED.n, w = h.w + EXCLUDED.w;
        IF dn < 0 THEN
            DELETE FROM tiles.heat_cell
            WHERE layer = p_layer AND dim_a IN ('', a) AND level = lv AND cy = cyy
              AND cx = cxx AND n <= 0;
        END IF;
    END LOOP;
END $$;

-- Re-read feature `fid` of a point layer from its public view and bring the heat grid,
-- the remembered contribution and the tile cache in line with it.
CREATE FUNCTION tiles.point_changed(p_layer text, fid text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    cfg tiles.point_layer;
    old tiles.heat_point;
    cur tiles.heat_point;
    found_new boolean;
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
    IF old.id IS NOT NULL AND found_new AND old.x = cur.x AND old.y = cur.y
       AND old.dim_a = cur.dim_a AND old.dim_b = cur.dim_b AND old.w = cur.w THEN
        NULL;  -- same heat contribution: only the cache needs refreshing
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
        PERFORM tiles.invalidate_box(p_layer, cur.bxmin, cur.bymin, cur.bxmax, cur.bymax, cfg.maxzoom);
    ELSIF old.id IS NOT NULL THEN
        DELETE FROM tiles.heat_point WHERE layer = p_layer AND id = fid;
    END IF;
    IF old.id IS NOT NULL THEN
        PERFORM tiles.invalidate_box(p_layer, old.bxmin, old.bymin, old.bxmax, old.bymax, cfg.maxzoom);
    END IF;
END $$;

-- Row trigger for a table holding (or referring to) a point layer's features:
-- TG_ARGV[0] is the layer, TG_ARGV[1] the column holding the feature id (default id).
CREATE FUNCTION tiles.on_point_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    col text := coalesce(TG_ARGV[1], 'id');
    new_id text;
    old_id text;
BEGIN
    IF TG_OP <> 'DELETE' THEN
        new_id := to_jsonb(NEW) ->> col;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        old_id := to_jsonb(OLD) ->> col;
    END IF;
    IF new_id IS NOT NULL THEN
        PERFORM tiles.point_changed(TG_ARGV[0], new_id);
    END IF;
    IF old_id IS NOT NULL AND old_id IS DISTINCT FROM new_id THEN
        PERFORM tiles.point_changed(TG_ARGV[0], old_id);
    END IF;
    RETURN NULL;
END $$;

-- Attach the row trigger to a table (used by later migrations, and by tests).
CREATE FUNCTION tiles.attach_point_layer(p_layer text, p_table regclass, p_id_column text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %s'
        ' FOR EACH ROW EXECUTE FUNCTION tiles.on_point_row(%L, %L)',
        'tiles_' || p_layer, p_table, p_layer, p_id_column);
END $$;

-- Recompute a point layer's heat grid from its view in bulk (initial load, bulk imports).
CREATE FUNCTION tiles.rebuild_heat(p_layer text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    cfg tiles.point_layer;
    lv integer;
    total bigint;
BEGIN
    SELECT * INTO STRICT cfg FROM tiles.point_layer WHERE layer = p_layer;
    PERFORM tiles.touch_layer(p_layer);
    DELETE FROM tiles.heat_cell WHERE layer = p_layer;
    DELETE FROM tiles.heat_point WHERE layer = p_layer;
    DELETE FROM tiles.heat_stats WHERE layer = p_layer;
    EXECUTE format(
        'INSERT INTO tiles.heat_point SELECT %L, id::text, ST_X(p), ST_Y(p), ST_XMin(b),'
        ' ST_YMin(b), ST_XMax(b), ST_YMax(b), coalesce(nullif((%I)::text, ''''), ''-''),'
        ' coalesce(nullif((%I)::text, ''''), ''-''), coalesce((%I)::double precision, 0)'
        ' FROM (SELECT v.*, ST_PointOnSurface(v.geom_3857) AS p, v.geom_3857::box2d AS b'
        '       FROM %s v WHERE v.geom_3857 IS NOT NULL) s',
        p_layer, cfg.dim_a, cfg.dim_b, cfg.weight, cfg.source);
    GET DIAGNOSTICS total = ROW_COUNT;
    INSERT INTO tiles.heat_cell (layer, dim_a, level, cy, cx, dim_b, n, w)
    SELECT p_layer, dim_a, tiles.heat_max_level(), cy, cx, dim_b, count(*), sum(w)
    FROM (SELECT dim_a, dim_b, w, tiles.tile_x(x, tiles.heat_max_level()) AS cx,
                 tiles.tile_y(y, tiles.heat_max_level()) AS cy
          FROM tiles.heat_point WHERE layer = p_layer) p
    GROUP BY dim_a, cy, cx, dim_b;
    FOR lv IN REVERSE tiles.heat_max_level() - 1..tiles.heat_min_level() LOOP
        INSERT INTO tiles.heat_cell (layer, dim_a, level, cy, cx, dim_b, n, w)
        SELECT p_layer, dim_a, lv, cy / 2, cx / 2, dim_b, sum(n), sum(w)
        FROM tiles.heat_cell WHERE layer = p_layer AND level = lv + 1 AND dim_a <> ''
        GROUP BY dim_a, cy / 2, cx / 2, dim_b;
    END LOOP;
    INSERT INTO tiles.heat_cell (layer, dim_a, level, cy, cx, dim_b, n, w)
    SELECT p_layer, '', level, cy, cx, '', sum(n), sum(w)
    FROM tiles.heat_cell WHERE layer = p_layer AND dim_a <> ''
    GROUP BY level, cy, cx;
    DELETE FROM tiles.tile_cache WHERE layer = p_layer;
    RETURN total;
END $$;
"""

POLYGONS = """
-- Rebuild the simplified geometries of a polygon layer for `ids` (all when NULL).
-- Band tolerance: one MVT unit (1/4096 of a tile) at the band's highest zoom.
CREATE FUNCTION tiles.refresh_polygons(p_layer text, ids text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    cfg tiles.polygon_layer;
    props text;
BEGIN
    SELECT * INTO STRICT cfg FROM tiles.polygon_layer WHERE layer = p_layer;
    SELECT string_agg(format('%L, v.%I', p, p), ', ') INTO props FROM unnest(cfg.props) p;
    DELETE FROM tiles.polygon_geom
    WHERE layer = p_layer AND (ids IS NULL OR id = ANY(ids));
    EXECUTE format(
        'INSERT INTO tiles.polygon_geom (layer, band, id, props, geom_3857)'
        ' SELECT %L, b.band, v.id::text, jsonb_build_object(%s), g.geom'
        ' FROM %s v CROSS JOIN tiles.band b'
        ' CROSS JOIN LATERAL (SELECT CASE WHEN b.simplify THEN ST_MakeValid(ST_Simplify('
        '     ST_Transform(v.geom, 3857), (ST_XMax(ST_TileEnvelope(b.maxzoom, 0, 0))'
        '     - ST_XMin(ST_TileEnvelope(b.maxzoom, 0, 0))) / 4096.0, false))'
        '   ELSE ST_Transform(v.geom, 3857) END AS geom) g'
        ' WHERE v.geom IS NOT NULL AND ($1 IS NULL OR v.id::text = ANY($1))'
        '   AND g.geom IS NOT NULL AND NOT ST_IsEmpty(g.geom)',
        p_layer, props, cfg.source) USING ids;
END $$;

-- Statement trigger on a territory table: TG_ARGV[0] the layer, TG_ARGV[1] the key column.
CREATE FUNCTION tiles.on_polygon_statement() RETURNS trigger LANGUAGE plpgsql AS $$
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
"""

TERRITORIES = [
    ("communes", "public.commune", "insee", "public_layers.communes", "{id,nom,population}"),
    (
        "arrondissements",
        "public.arrondissement",
        "insee",
        "public_layers.arrondissements",
        "{id,nom,commune_insee}",
    ),
    (
        "intercommunalites",
        "public.intercommunalite",
        "siren",
        "public_layers.intercommunalites",
        "{id,nom,nature}",
    ),
]


def upgrade() -> None:
    op.execute(TABLES)
    op.execute(GRID)
    op.execute(CACHE)
    op.execute(HEAT)
    op.execute(POLYGONS)
    for layer, table, key, view, props in TERRITORIES:
        op.execute(
            f"INSERT INTO tiles.polygon_layer (layer, source, props) "
            f"VALUES ('{layer}', '{view}', '{props}')"
        )
        short = table.split(".")[1]
        for event, refs in (
            ("INSERT", "NEW TABLE AS new_rows"),
            ("UPDATE", "NEW TABLE AS new_rows OLD TABLE AS old_rows"),
            ("DELETE", "OLD TABLE AS old_rows"),
        ):
            op.execute(
                f"CREATE TRIGGER tiles_{short}_{event.lower()} AFTER {event} ON {table} "
                f"REFERENCING {refs} FOR EACH STATEMENT "
                f"EXECUTE FUNCTION tiles.on_polygon_statement('{layer}', '{key}')"
            )
        op.execute(f"SELECT tiles.refresh_polygons('{layer}', NULL)")


def downgrade() -> None:
    for _layer, table, _key, _view, _props in TERRITORIES:
        short = table.split(".")[1]
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS tiles_{short}_{event} ON {table}")
    op.execute("DROP SCHEMA IF EXISTS tiles CASCADE")
