-- Tile arithmetic on EPSG:3857 coordinates: the grid is PostGIS's own ST_TileEnvelope.
-- The constants (@...@) come from carto/tiles/grid.py when applied (carto/tiles/schema.py).

CREATE OR REPLACE FUNCTION tiles.tile_x(x double precision, z integer) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT least(greatest(floor((x - ST_XMin(ST_TileEnvelope(0, 0, 0)))
        / ((ST_XMax(ST_TileEnvelope(0, 0, 0)) - ST_XMin(ST_TileEnvelope(0, 0, 0))) / 2 ^ z)),
        0), 2 ^ z - 1)::integer
$$;

CREATE OR REPLACE FUNCTION tiles.tile_y(y double precision, z integer) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT least(greatest(floor((ST_YMax(ST_TileEnvelope(0, 0, 0)) - y)
        / ((ST_YMax(ST_TileEnvelope(0, 0, 0)) - ST_YMin(ST_TileEnvelope(0, 0, 0))) / 2 ^ z)),
        0), 2 ^ z - 1)::integer
$$;

-- The heat grid's precomputed levels (a level-L cell is the XYZ tile (x, y, L)).
CREATE OR REPLACE FUNCTION tiles.heat_min_level() RETURNS integer
    LANGUAGE sql IMMUTABLE AS 'SELECT @HEAT_MIN_LEVEL@';

CREATE OR REPLACE FUNCTION tiles.heat_max_level() RETURNS integer
    LANGUAGE sql IMMUTABLE AS 'SELECT @HEAT_MAX_LEVEL@';

-- MVT buffer as a fraction of a tile side.
CREATE OR REPLACE FUNCTION tiles.buffer_ratio() RETURNS double precision
    LANGUAGE sql IMMUTABLE AS 'SELECT @BUFFER@ / @EXTENT@';

-- The MVT buffer at zoom z in metres: arithmetic, no ST_TileEnvelope call.
CREATE OR REPLACE FUNCTION tiles.tile_margin(z integer) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT @WORLD_SIZE@ / 2 ^ z * tiles.buffer_ratio()
$$;

-- The tile ranges, per zoom, whose buffered envelope meets a box.
CREATE OR REPLACE FUNCTION tiles.tile_ranges(
    p_xmin double precision, p_ymin double precision,
    p_xmax double precision, p_ymax double precision, p_maxzoom integer
) RETURNS TABLE (zz integer, x0 integer, x1 integer, y0 integer, y1 integer)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT zz, tiles.tile_x(p_xmin - m, zz), tiles.tile_x(p_xmax + m, zz),
           tiles.tile_y(p_ymax + m, zz), tiles.tile_y(p_ymin - m, zz)
    FROM generate_series(0, p_maxzoom) AS zz, LATERAL (SELECT tiles.tile_margin(zz) AS m) b
$$;

-- Advisory-lock keys of a tile and of a whole layer (see cache.sql).
CREATE OR REPLACE FUNCTION tiles.tile_key(p_layer text, z integer, x integer, y integer)
RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT hashtextextended(p_layer || '/' || z || '/' || x || '/' || y, 0)
$$;

CREATE OR REPLACE FUNCTION tiles.layer_key(p_layer text) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT hashtextextended(p_layer || '/*', 0) $$;
