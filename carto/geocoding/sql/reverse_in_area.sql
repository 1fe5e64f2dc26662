-- Reverse geocoding when the commune (or arrondissement) is already known, as at intake
-- where routing found it: the nearest address within :addr_m metres, else the nearest
-- named street within :street_m (OSM segments, else the street of the nearest BAN
-- address), else the area itself. No polygon is read: a few KNN probes on GiST indexes.
-- One row (rank, type, housenumber, street, postcode, citycode, city, label); nothing
-- when :a_skip is true (the address is known already).
-- Parameters: :lon, :lat, :addr_m, :street_m, :a_area_insee, :a_area_name, :a_skip.
SELECT r.*,
       CASE r.type WHEN 'municipality' THEN r.city
            WHEN 'street' THEN concat_ws(' ', r.street, r.postcode, r.city)
            ELSE concat_ws(' ', r.housenumber, r.street, r.postcode, r.city) END AS label
FROM (
    WITH p AS (
        SELECT ST_SetSRID(ST_MakePoint(CAST(:lon AS float8), CAST(:lat AS float8)), 4326) AS g
        WHERE NOT CAST(:a_skip AS boolean)
    ),
    near_addr AS (
        SELECT n.*, ST_Distance(n.geom::geography, p.g::geography) AS d
        FROM p, LATERAL (
            SELECT ad.numero, ad.rep, ad.postcode, ad.citycode, ad.city, ad.geom,
                   s.name AS street
            FROM geocode_address ad JOIN geocode_street s ON s.id = ad.street_id
            ORDER BY ad.geom <-> p.g LIMIT 4
        ) n
        ORDER BY d LIMIT 1
    ),
    near_seg AS (
        SELECT n.name, ST_Distance(n.geom::geography, p.g::geography) AS d
        FROM p, LATERAL (
            SELECT seg.name, seg.geom FROM street_segment seg
            WHERE seg.name IS NOT NULL ORDER BY seg.geom <-> p.g LIMIT 8
        ) n
        ORDER BY d LIMIT 1
    ),
    area AS (
        SELECT CAST(:a_area_insee AS text) AS insee, CAST(:a_area_name AS text) AS nom,
               carto_main_postcode(CAST(:a_area_insee AS text)) AS postcode
        FROM p
    )
    SELECT 1 AS rank, 'housenumber' AS type,
           concat_ws(' ', a.numero::text, a.rep) AS housenumber, a.street, a.postcode,
           a.citycode, a.city
    FROM near_addr a WHERE a.d <= CAST(:addr_m AS float8)
    UNION ALL
    SELECT 2, 'street', NULL, s.name, area.postcode, area.insee, area.nom
    FROM near_seg s, area WHERE s.d <= CAST(:street_m AS float8)
    UNION ALL
    SELECT 3, 'street', NULL, a.street, a.postcode, a.citycode, a.city
    FROM near_addr a WHERE a.d <= CAST(:street_m AS float8)
    UNION ALL
    SELECT 4, 'municipality', NULL, NULL, area.postcode, area.insee, area.nom FROM area
    ORDER BY rank
    LIMIT 1
) r
