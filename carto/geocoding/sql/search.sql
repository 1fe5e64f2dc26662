-- Forward search, one statement. Candidates come from four trigram-indexed sources
-- (communes, arrondissements, BAN streets, named OSM streets), each ranked and cut on
-- its own; a house number is then looked up on the best streets through a b-tree.
-- score = 0.8 text + 0.1 importance + 0.1 proximity to the map view (when given).
-- Parameters: :t text (normalised here), :pc postcode, :hn, :rep, :lon, :lat, :lim.
WITH q AS (
    SELECT carto_geo_norm(CAST(:t AS text)) AS t,
           CAST(:pc AS text) AS pc,
           CAST(:hn AS integer) AS hn,
           CAST(:rep AS text) AS rep,
           CASE WHEN CAST(:lon AS float8) IS NULL THEN NULL
                ELSE ST_SetSRID(ST_MakePoint(CAST(:lon AS float8), CAST(:lat AS float8)), 4326)
           END AS p
),
muni AS (
    SELECT m.*, 0.8 * (0.55 * word_similarity(q.t, m.norm) + 0.45 * similarity(q.t, m.norm))
               + 0.1 * least(1.0, ln(1 + coalesce(m.population, 0)) / ln(1e6)) AS s0
    FROM q, (
        SELECT c.insee, c.nom, c.population, c.geom, carto_geo_norm(c.nom) AS norm
        FROM commune c
        UNION ALL
        SELECT a.insee, a.nom, a.population, a.geom, carto_geo_norm(a.nom)
        FROM arrondissement a
    ) m
    WHERE q.t <> '' AND (q.t <% m.norm OR q.t % m.norm)
      AND (q.pc IS NULL OR EXISTS (
            SELECT 1 FROM geocode_postcode gp
            WHERE gp.postcode = q.pc AND (gp.insee = m.insee OR gp.insee IN (
                SELECT a2.insee FROM arrondissement a2 WHERE a2.commune_insee = m.insee))))
    UNION ALL  -- a postcode alone: the communes and arrondissements it serves
    SELECT m.insee, m.nom, m.population, m.geom, m.nom, 0.9
    FROM q, geocode_postcode gp,
         LATERAL (SELECT c.insee, c.nom, c.population, c.geom FROM commune c
                  WHERE c.insee = gp.insee
                  UNION ALL
                  SELECT a.insee, a.nom, a.population, a.geom FROM arrondissement a
                  WHERE a.insee = gp.insee) m
    WHERE q.t = '' AND gp.postcode = q.pc
),
muni_ranked AS (
    SELECT 'municipality' AS type, m.insee AS id, m.nom AS name, NULL::integer AS street_id,
           NULL::text AS postcode, m.insee AS citycode, m.nom AS city,
           ST_PointOnSurface(m.geom) AS geom,
           m.s0 + CASE WHEN q.p IS NULL THEN 0
                       ELSE 0.1 / (1 + (m.geom <-> q.p) * 111 / 5) END AS score
    FROM muni m, q
    ORDER BY score DESC
    LIMIT 20
),
ban_streets AS (
    SELECT 'street' AS type, s.street_key AS id, s.name, s.id AS street_id, s.postcode,
           s.citycode, s.city, s.geom,
           0.8 * (0.55 * word_similarity(q.t, s.norm) + 0.45 * similarity(q.t, s.norm))
           + CASE WHEN q.p IS NULL OR s.geom IS NULL THEN 0
                  ELSE 0.1 / (1 + (s.geom <-> q.p) * 111 / 5) END AS score
    FROM geocode_street s, q
    WHERE q.t <> '' AND (q.t <% s.norm OR q.t % s.norm)
      AND (q.pc IS NULL OR s.postcode = q.pc)
    ORDER BY score DESC
    LIMIT 20
),
osm_named AS (
    SELECT seg.name, ST_LineInterpolatePoint(seg.geom, 0.5) AS geom
    FROM street_segment seg, q
    WHERE q.t <> '' AND seg.name IS NOT NULL
      AND (q.t <% carto_geo_norm(seg.name) OR q.t % carto_geo_norm(seg.name))
    ORDER BY word_similarity(q.t, carto_geo_norm(seg.name)) DESC
    LIMIT 60
),
osm_streets AS (
    SELECT 'street' AS type, NULL::text AS id, o.name, NULL::integer AS street_id,
           NULL::text AS postcode, w.insee AS citycode, w.nom AS city, o.geom,
           0.8 * (0.55 * word_similarity(q.t, carto_geo_norm(o.name || ' ' || w.nom))
                  + 0.45 * similarity(q.t, carto_geo_norm(o.name || ' ' || w.nom)))
           + CASE WHEN q.p IS NULL THEN 0
                  ELSE 0.1 / (1 + (o.geom <-> q.p) * 111 / 5) END - 0.01 AS score
    FROM osm_named o, q,
         LATERAL (SELECT x.insee, x.nom FROM (
                      SELECT a.insee, a.nom, 0 AS k FROM arrondissement a
                      WHERE ST_Intersects(a.geom, o.geom)
                      UNION ALL
                      SELECT c.insee, c.nom, 1 FROM commune c WHERE ST_Intersects(c.geom, o.geom)
                  ) x ORDER BY x.k LIMIT 1) w
    WHERE q.pc IS NULL OR EXISTS (
        SELECT 1 FROM geocode_postcode gp WHERE gp.insee = w.insee AND gp.postcode = q.pc)
),
ranked AS (
    SELECT * FROM muni_ranked
    UNION ALL SELECT * FROM ban_streets
    UNION ALL SELECT * FROM osm_streets
    ORDER BY score DESC
    LIMIT CAST(:lim AS integer) * 2 + 4
)
SELECT CASE WHEN a.ban_id IS NULL THEN r.type ELSE 'housenumber' END AS type,
       coalesce(a.ban_id, r.id) AS id,
       r.name AS street_name,
       a.numero, a.rep,
       coalesce(a.postcode, r.postcode, (
           SELECT min(gp.postcode) FROM geocode_postcode gp
           WHERE gp.insee = r.citycode OR gp.insee IN (
               SELECT a3.insee FROM arrondissement a3 WHERE a3.commune_insee = r.citycode)
       )) AS postcode,
       r.citycode, r.city,
       ST_X(coalesce(a.geom, r.geom)) AS lon, ST_Y(coalesce(a.geom, r.geom)) AS lat,
       least(1.0, r.score + CASE WHEN a.ban_id IS NOT NULL THEN 0.05
                                 WHEN q.hn IS NOT NULL AND r.type = 'street' THEN -0.05
                                 ELSE 0 END) AS score
FROM ranked r CROSS JOIN q
LEFT JOIN LATERAL (
    SELECT ad.ban_id, ad.numero, ad.rep, ad.postcode, ad.geom
    FROM geocode_address ad
    WHERE q.hn IS NOT NULL AND ad.street_id = r.street_id AND ad.numero = q.hn
    ORDER BY (ad.rep IS NOT DISTINCT FROM q.rep) DESC, ad.rep NULLS FIRST
    LIMIT 1
) a ON true
WHERE r.geom IS NOT NULL
ORDER BY score DESC
