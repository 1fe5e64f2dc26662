-- Reverse geocoding, one statement: the nearest address within :addr_m metres (KNN on
-- the GiST index: a few candidates by planar distance, then true metres), else the
-- nearest named street within :street_m (OSM segments, else the street of the nearest
-- BAN address), else the commune (the arrondissement in Paris, Lyon, Marseille).
-- Parameters: :lon, :lat, :addr_m, :street_m.
WITH p AS (SELECT ST_SetSRID(ST_MakePoint(CAST(:lon AS float8), CAST(:lat AS float8)), 4326) AS g),
area AS (
    SELECT x.insee, x.nom FROM p, LATERAL (
        SELECT a.insee, a.nom, 0 AS k FROM arrondissement a WHERE ST_Intersects(a.geom, p.g)
        UNION ALL
        SELECT c.insee, c.nom, 1 FROM commune c WHERE ST_Intersects(c.geom, p.g)
    ) x ORDER BY x.k LIMIT 1
),
near_addr AS (
    SELECT n.*, ST_Distance(n.geom::geography, p.g::geography) AS d
    FROM p, LATERAL (
        SELECT ad.ban_id, ad.numero, ad.rep, ad.postcode, ad.citycode, ad.city, ad.geom,
               s.name AS street
        FROM geocode_address ad JOIN geocode_street s ON s.id = ad.street_id
        ORDER BY ad.geom <-> p.g LIMIT 4
    ) n
    ORDER BY d LIMIT 1
),
near_seg AS (
    SELECT n.name, ST_ClosestPoint(n.geom, p.g) AS geom,
           ST_Distance(n.geom::geography, p.g::geography) AS d
    FROM p, LATERAL (
        SELECT seg.name, seg.geom FROM street_segment seg
        WHERE seg.name IS NOT NULL ORDER BY seg.geom <-> p.g LIMIT 8
    ) n
    ORDER BY d LIMIT 1
),
area_postcode AS (SELECT carto_main_postcode(area.insee) AS postcode FROM area)
SELECT * FROM (
    SELECT 1 AS rank, 'housenumber' AS type, ban_id AS id, street, numero, rep, postcode,
           citycode, city, ST_X(geom) AS lon, ST_Y(geom) AS lat, d
    FROM near_addr WHERE d <= CAST(:addr_m AS float8)
    UNION ALL
    SELECT 2, 'street', NULL, s.name, NULL, NULL, ap.postcode, area.insee, area.nom,
           ST_X(s.geom), ST_Y(s.geom), s.d
    FROM near_seg s, area, area_postcode ap WHERE s.d <= CAST(:street_m AS float8)
    UNION ALL
    SELECT 3, 'street', NULL, street, NULL, NULL, postcode, citycode, city,
           ST_X(geom), ST_Y(geom), d
    FROM near_addr WHERE d <= CAST(:street_m AS float8)
    UNION ALL
    SELECT 4, 'municipality', area.insee, area.nom, NULL, NULL, ap.postcode, area.insee,
           area.nom, ST_X(p.g), ST_Y(p.g), 0
    FROM area, area_postcode ap, p
) r
ORDER BY rank
LIMIT 1
